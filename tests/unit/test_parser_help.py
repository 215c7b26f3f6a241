"""`cockpit --help` names every simulated machine `--simulate` accepts."""

from __future__ import annotations

from cockpit.cli.parser import build_parser
from cockpit.hardware.simulated import SIMULATED_MACHINES


def test_help_lists_every_simulated_machine_with_what_it_shows():
    # Seen: `cockpit --help` said "--simulate NAME  show a simulated GPU (demo)" and no names.
    text = build_parser().format_help()
    for name, machine in SIMULATED_MACHINES.items():
        line = next((line for line in text.splitlines() if line.split()[:1] == [name]), None)
        assert line is not None, f"{name} missing from:\n{text}"
        assert machine.description[:30] in line


def test_watch_help_lists_the_names_too():
    parser = build_parser()
    watch = parser._subparsers._group_actions[0].choices["watch"]  # argparse keeps them here
    text = " ".join(watch.format_help().split())
    for name in SIMULATED_MACHINES:
        assert name in text
