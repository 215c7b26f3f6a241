"""`python -m engines COMMAND …`: a small dispatcher; each command lives in its own module."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The parser for `python -m engines`."""
    parser = argparse.ArgumentParser(prog="python -m engines")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    trace = sub.add_parser("trace", help="count one training step's memory on the meta device")
    trace.add_argument("profile", metavar="PROFILE_PATH", help="profile TOML file")
    trace.add_argument("--json", action="store_true", help="print one JSON object")
    trace.add_argument("--config", metavar="PATH", help="config.json to use for the model")
    run = sub.add_parser("run", help="train the run in RUN_DIR (reads RUN_DIR/profile.toml)")
    run.add_argument("run_dir", metavar="RUN_DIR", help="run directory")
    run.add_argument("--resume", action="store_true", help="resume from the newest checkpoint")
    return parser


def _trace(args: argparse.Namespace) -> int:
    from engines.trace import TraceError, format_text, load_profile, model_config, run_trace

    try:
        profile = load_profile(args.profile)
        result = run_trace(profile, model_config(profile, args.config))
    except (OSError, ValueError, TraceError) as exc:
        print(f"engines trace: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else format_text(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "trace":
        return _trace(args)
    if args.command == "run":
        from engines.run import run

        return run(args.run_dir, resume=args.resume)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
