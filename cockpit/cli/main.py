"""The front door: the TUI by default, plus headless twins of each place.

Kept import-light: textual, the doctor and the hardware gateway are imported only by the
command that needs them, so `cockpit watch --once` and `cockpit doctor --json` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cockpit.cli.parser import build_parser


def _check_simulation(name: str | None) -> str | None:
    """An error message for an unknown simulation name, else None."""
    if name is None:
        return None
    from cockpit.hardware.simulated import SIMULATED_MACHINES

    if name in SIMULATED_MACHINES:
        return None
    valid = ", ".join(sorted(SIMULATED_MACHINES))
    return f"cockpit: unknown simulated GPU {name!r}; choose one of: {valid}"


def _log_target(args: argparse.Namespace) -> tuple[str | None, int]:
    """The log `cockpit logs` should open (as a path), or an exit code after a message."""
    if args.command != "logs" or args.target is None:
        return None, 0
    from cockpit.logs.source import LogFile, LogOpenError
    from cockpit.runs.store import RunStoreError
    from cockpit.runs.target import resolve_log

    try:
        path = resolve_log(args.target)
        LogFile(path).close()
    except (LogOpenError, RunStoreError) as error:
        print(f"cockpit logs: {error}", file=sys.stderr)
        return None, 2
    return str(path), 0


def _run_tui(args: argparse.Namespace) -> int:
    target, failed = _log_target(args)
    if failed:
        return failed
    from cockpit.settings import load_settings
    from cockpit.tui.app import CockpitApp

    settings, problems = load_settings()
    place = "logs" if args.command == "logs" else args.place or settings.start_place

    def open_sampler():  # runs in the sampling thread: psutil/NVML load off the first frame
        from cockpit.hardware.sampler import open_sampler

        return open_sampler(args.simulate)

    app = CockpitApp(
        sampler_factory=open_sampler,
        refresh_s=args.refresh or settings.refresh_s,
        python=args.python,
        start_place=place,
        log_target=target,
        follow_log=getattr(args, "follow", False),
        settings=settings,
        startup_notes=problems,
    )
    app.run()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `cockpit` console script."""
    try:
        return _main(argv)
    except BrokenPipeError:  # `cockpit runs | head`: the reader left, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in ("watch", "doctor", "estimate", "profiles", "explain"):
        from cockpit.settings import apply_runs_dir, load_settings

        apply_runs_dir(load_settings()[0])
    error = _check_simulation(getattr(args, "simulate", None))
    if error:
        print(error, file=sys.stderr)
        return 2
    if args.command is None or args.command == "logs":
        return _run_tui(args)
    return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """A headless command, its module imported only now (each imports what it needs)."""
    if args.command == "watch":
        from cockpit.cli.watch import watch_main

        return watch_main(args.simulate, args.json, args.once, args.interval, args.stream)
    if args.command == "doctor":
        from cockpit.cli.doctor import doctor_main

        return doctor_main(args.python, args.json)
    if args.command == "estimate":
        if args.probe:
            from cockpit.cli.probe import probe_named

            return probe_named(args.profile, args.gpu_gib, max(args.steps, 1), args.json)
        from cockpit.cli.estimate import estimate_named

        calibration = not args.no_calibration
        return estimate_named(args.profile, args.gpu_gib, args.trace, args.json, calibration)
    if args.command == "profiles":
        from cockpit.cli.profiles import profiles_main

        return profiles_main(args.gpu_gib, args.json)
    if args.command == "explain":
        from cockpit.cli.explain import explain_main

        return explain_main(args.file, args.json)
    if args.command == "report":
        from cockpit.cli.report import report_main

        return report_main(args.target, args.output, args.python)
    if args.command == "data":
        from cockpit.cli.data import data_main

        return data_main(args.profile, args.json, args.rows)
    if args.command == "try":
        from cockpit.cli.try_run import Generation, try_main

        generation = Generation(max(args.max_new_tokens, 1), max(args.temperature, 0.0), args.top_p)
        if (args.prompt is None) == (args.sample is None):
            print("cockpit try: give --prompt TEXT or --sample N (one of them)", file=sys.stderr)
            return 2
        if args.sample is not None:
            from cockpit.cli.try_run import sample_main

            return sample_main(args.run_id, max(args.sample, 1), as_json=args.json,
                               checkpoint=args.checkpoint, generation=generation)  # fmt: skip
        return try_main(
            args.run_id,
            args.prompt,
            system=args.system,
            compare=args.compare,
            as_json=args.json,
            checkpoint=args.checkpoint,
            generation=generation,
        )
    if args.command == "export":
        from cockpit.cli.export import export_main

        return export_main(
            args.run_id, args.to, args.quant, args.name, args.system, args.checkpoint
        )
    if args.command == "notify":
        from cockpit.cli.notify import notify_main

        return notify_main(args.run_id)
    if args.command == "serve":
        from cockpit.cli.serve import serve_main, tui_argv

        return serve_main(args.host, args.port, tui_argv(args))
    if args.command == "runs" and args.all_hosts:
        from cockpit.cli.all_hosts import all_hosts_main

        return all_hosts_main(args.json)
    from cockpit.cli.train import runs_command  # train, runs, stop

    return runs_command(args)
