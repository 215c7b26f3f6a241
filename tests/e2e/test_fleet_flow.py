"""The fleet view in a real terminal at 80x24: cockpit with two [[hosts]] — a simulated GPU
machine reached over ssh (the test sshd) with a run on it, and a host refusing ssh — f shows
both rows, f again this machine; quitting ends every ssh it started."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cockpit.settings import Host, Settings, save_settings
from tests.e2e.tmux import Tmux
from tests.fleet_fixtures import live_run
from tests.runs_helpers import wait_for
from tests.system_tools import need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
SSH_S = 60.0

pytestmark = pytest.mark.e2e


def _our_ssh(config: Path) -> list[int]:
    """Pids of the ssh processes that use this sshd's config (what cockpit started)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline[:1] == [b"ssh"] and str(config).encode() in cmdline:
            pids.append(int(proc.name))
    return pids


def test_f_shows_the_live_and_the_dead_host_at_80x24(tmp_path, sshd_hosts):
    need_tmux()
    hosts = (
        Host(sshd_hosts.live, python=sys.executable, simulate="rtx3050-4gb"),
        Host(sshd_hosts.dead),
    )
    save_settings(Settings(hosts=hosts), tmp_path / "config" / "settings.toml")
    env = {"TERM": "xterm-256color", "COCKPIT_CONFIG_DIR": str(tmp_path / "config"),
           "COCKPIT_RUNS_DIR": str(tmp_path / "runs"), **sshd_hosts.env}  # fmt: skip
    run_id = f"fleet-walk-{tmp_path.name[-12:]}"  # the sshd's runs folder is shared
    with live_run(sshd_hosts.remote_runs, run_id, step=7, total=30, loss=2.5):
        term = Tmux(COCKPIT, 80, 24, env)
        try:
            term.wait_for("Hardware", "f Fleet")
            term.send("f")
            screen = term.wait_for(f"{sshd_hosts.live} · up", f"{sshd_hosts.dead} · down",
                                   timeout=SSH_S)  # fmt: skip
            assert "SIMULATED rtx3050-4gb" in screen and "/4.0 GiB" in screen
            assert f"▶ {run_id} · running · 7/30 · loss 2.5000" in screen
            assert "nothing accepts ssh there (connection refused)" in screen
            assert "fix: start sshd on it" in screen
            assert "Traceback" not in screen
            term.send("f")
            term.wait_until(lambda s: sshd_hosts.dead not in s, 30, "this machine again")
            assert _our_ssh(sshd_hosts.config)  # the stream goes on while the fleet is away
            term.send("q")
            term.wait_for("[exited 0]")
        finally:
            term.close()
    wait_for(lambda: not _our_ssh(sshd_hosts.config), 15, "every ssh cockpit started to end")
