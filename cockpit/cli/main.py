"""The front door: the TUI by default, plus headless twins of each place.

Kept import-light: textual, the doctor and the hardware gateway are imported only by the
command that needs them, so `cockpit watch --once` and `cockpit doctor --json` start fast.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence

from cockpit import __version__

PLACES = ("hardware", "doctor", "profiles", "runs", "logs")


def _positive_float(text: str) -> float:
    """A finite number > 0 (argparse shows the message; nan and inf are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `cockpit` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="A terminal cockpit for fine-tuning LLMs on your own GPU.",
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    _add_tui_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    watch = sub.add_parser("watch", help="print the hardware snapshot headless")
    watch.add_argument("--once", action="store_true", help="print one snapshot and exit")
    watch.add_argument("--json", action="store_true", help="JSON instead of text lines")
    watch.add_argument("--simulate", metavar="NAME", help="use a simulated GPU")
    watch.add_argument("--interval", type=_positive_float, default=1.0, metavar="S")

    doctor = sub.add_parser("doctor", help="check the Python/CUDA training stack")
    doctor.add_argument("--json", action="store_true", help="findings as a JSON list")
    doctor.add_argument(
        "--python", metavar="PATH", help="check this interpreter's environment instead"
    )
    estimate = sub.add_parser(
        "estimate", help="VRAM estimate and verdict of a profile (exit 0 fits, 3 tight, 4 no)"
    )
    estimate.add_argument("profile", help="a profile file or the name of a listed profile")
    estimate.add_argument("--gpu-gib", type=_positive_float, metavar="N", help="plan for N GiB")
    estimate.add_argument("--trace", action="store_true", help="also measure on the meta device")
    estimate.add_argument("--json", action="store_true", help="the estimate as JSON")

    train = sub.add_parser("train", help="pre-flight, start and follow a training run")
    train.add_argument(
        "profile",
        nargs="?",
        help="a profile file or listed name (default: settings default_profile)",
    )
    train.add_argument("--detach", action="store_true", help="start it and return at once")
    train.add_argument("--force", action="store_true", help="start even if it won't fit")
    train.add_argument("--resume", metavar="RUN_ID", help="resume a run from its last checkpoint")

    runs = sub.add_parser("runs", help="list runs with their status")
    runs.add_argument("--json", action="store_true", help="as a JSON list")

    stop = sub.add_parser("stop", help="stop a run gracefully (checkpoint, then exit)")
    stop.add_argument("run_id", metavar="RUN_ID", help="a run id (or a unique prefix)")

    explain = sub.add_parser("explain", help="annotate a log with known errors and their fixes")
    explain.add_argument("file", metavar="FILE", help="a log file (a run's output.log, any log)")
    explain.add_argument("--json", action="store_true", help="findings as a JSON list")

    report = sub.add_parser("report", help="write the post-mortem of a run or a log (Markdown)")
    report.add_argument(
        "target", metavar="RUN_ID|LOGFILE", help="a run id (or prefix), run directory or log"
    )
    report.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    report.add_argument("--python", metavar="PY", help="interpreter the doctor checks")

    logs = sub.add_parser("logs", help="read a log (or a run's) in the Logs place, findings marked")
    logs.add_argument("target", nargs="?", metavar="FILE|RUN_ID", help="default: the newest run")
    logs.add_argument("--follow", action="store_true", help="keep showing what is appended")

    profiles = sub.add_parser("profiles", help="list profiles with their verdict for the card")
    profiles.add_argument("--gpu-gib", type=_positive_float, metavar="N", help="plan for N GiB")
    profiles.add_argument("--json", action="store_true", help="as a JSON list")
    serve = sub.add_parser("serve", help="the same cockpit in a browser tab (localhost only)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, metavar="N", help="port (default 8000)")
    _add_tui_options(serve)
    return parser


def _add_tui_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--simulate", metavar="NAME", help="show a simulated GPU (demo)")
    parser.add_argument("--python", metavar="PATH", help="training interpreter the Doctor checks")
    parser.add_argument(
        "--refresh",
        type=_positive_float,
        metavar="S",
        help="hardware refresh interval in seconds (default: settings, else 1)",
    )
    parser.add_argument("--place", choices=PLACES, help="place to open (default: settings)")


def _check_simulation(name: str | None) -> str | None:
    """An error message for an unknown simulation name, else None."""
    if name is None:
        return None
    from cockpit.hardware.simulated import SIMULATED_MACHINES

    if name in SIMULATED_MACHINES:
        return None
    valid = ", ".join(sorted(SIMULATED_MACHINES))
    return f"cockpit: unknown simulated GPU {name!r}; choose one of: {valid}"


def _run_watch(args: argparse.Namespace) -> int:
    from cockpit.hardware.format import snapshot_lines
    from cockpit.hardware.sampler import open_sampler
    from cockpit.termsafe import safe

    sampler = open_sampler(args.simulate)
    try:
        while True:
            snap = sampler.sample()
            if args.json:
                print(json.dumps(snap.to_json()), flush=True)
            else:
                print(safe("\n".join(snapshot_lines(snap))), flush=True)
            if args.once:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    finally:
        sampler.close()


def _run_doctor(args: argparse.Namespace) -> int:
    from cockpit.doctor.finding import print_findings
    from cockpit.doctor.profile_models import profile_models
    from cockpit.doctor.runner import exit_code, run_doctor

    findings = run_doctor(args.python, models=profile_models())
    if args.json:
        print(json.dumps([f.to_json() for f in findings], indent=2))
    else:
        print_findings(findings)
    return exit_code(findings)


def _run_estimate(args: argparse.Namespace) -> int:
    from cockpit.profiles.store import find_profile
    from cockpit.vram.cli import EXIT_INVALID, estimate_main

    path = find_profile(args.profile)
    if path is None:
        print(
            f"cockpit estimate: no profile file or listed profile named {args.profile!r}"
            " (`cockpit profiles` lists them)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return estimate_main(str(path), args.gpu_gib, args.trace, args.json)


def _run_profiles(args: argparse.Namespace) -> int:
    from cockpit.profiles_cli import profiles_main

    return profiles_main(args.gpu_gib, args.json)


def _run_runs_command(args: argparse.Namespace) -> int:
    from cockpit import train_cli

    if args.command == "runs":
        return train_cli.runs_main(args.json)
    if args.command == "stop":
        return train_cli.stop_main(args.run_id)
    if args.profile is None and args.resume is None:
        from cockpit.settings import load_settings, settings_path

        args.profile = load_settings()[0].default_profile
        if not args.profile:
            print(
                f"cockpit train: give a PROFILE, or set default_profile in {settings_path()}",
                file=sys.stderr,
            )
            return 2
    return train_cli.train_main(
        args.profile, detach=args.detach, force=args.force, resume=args.resume
    )


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
    from cockpit.app import CockpitApp
    from cockpit.settings import load_settings

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
    if args.command == "watch":
        return _run_watch(args)
    if args.command == "doctor":
        return _run_doctor(args)
    if args.command == "estimate":
        return _run_estimate(args)
    if args.command == "profiles":
        return _run_profiles(args)
    if args.command == "explain":
        from cockpit.knowledge.explain import explain_main

        return explain_main(args.file, args.json)
    if args.command == "report":
        from cockpit.report_cli import report_main

        return report_main(args.target, args.output, args.python)
    if args.command in ("train", "runs", "stop"):
        return _run_runs_command(args)
    if args.command == "serve":
        from cockpit.serve import serve_main, tui_argv

        return serve_main(args.host, args.port, tui_argv(args))
    return _run_tui(args)
