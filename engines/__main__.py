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
    check = sub.add_parser("data", help="check the profile's data as the trainer will see it")
    check.add_argument("profile", metavar="PROFILE_PATH", help="profile TOML file")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument(
        "--rows", type=_line_numbers, default=(), metavar="N,M", help="file lines to preview"
    )
    check.add_argument("--limit", type=int, default=3, metavar="K", help="first rows previewed")
    check.add_argument(
        "--quick", action="store_true", help="only what needs no tokenizer (pre-flight)"
    )
    probe = sub.add_parser("probe", help="measure K real training steps' memory on CUDA")
    probe.add_argument("profile", metavar="PROFILE_PATH", help="profile TOML file")
    probe.add_argument("--steps", type=int, default=3, metavar="K", help="optimizer steps")
    probe.add_argument("--json", action="store_true", help="print one JSON object")
    run = sub.add_parser("run", help="train the run in RUN_DIR (reads RUN_DIR/profile.toml)")
    run.add_argument("run_dir", metavar="RUN_DIR", help="run directory")
    run.add_argument("--resume", action="store_true", help="resume from the newest checkpoint")
    chat = sub.add_parser("chat", help="answer chat requests with what the run in RUN_DIR trained")
    chat.add_argument("run_dir", metavar="RUN_DIR", help="run directory")
    chat.add_argument("--checkpoint", type=int, metavar="N", help="checkpoint-N, not the adapter")
    export = sub.add_parser("export", help="ship what the run in RUN_DIR trained")
    export.add_argument("run_dir", metavar="RUN_DIR", help="run directory")
    export.add_argument("--to", choices=("merged", "ollama", "gguf"), required=True)
    export.add_argument("--quant", choices=("f16", "q8_0", "q4_k_m"), default="q8_0")
    export.add_argument("--name", help="the Ollama model name (default: the run id)")
    export.add_argument("--system", help="the Ollama model's system prompt")
    export.add_argument("--checkpoint", type=int, metavar="N", help="checkpoint-N's adapter")
    return parser


def _line_numbers(text: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give line numbers such as 3,17") from None
    if any(n < 1 for n in numbers):
        raise argparse.ArgumentTypeError("line numbers start at 1")
    return numbers


def _data(args: argparse.Namespace) -> int:
    from engines.datacheck import main as data_main

    return data_main(args.profile, args.json, args.rows, max(0, args.limit), args.quick)


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
    if args.command == "data":
        return _data(args)
    if args.command == "probe":
        from engines.probe import main as probe_main

        return probe_main(args.profile, args.steps, args.json)
    if args.command == "export":
        from engines.export import main as export_main

        return export_main(
            args.run_dir, args.to, args.quant, args.name, args.system, args.checkpoint
        )
    if args.command == "chat":
        from engines.chat import main as chat_main

        return chat_main(args.run_dir, args.checkpoint)
    if args.command == "run":
        from engines.run import run

        return run(args.run_dir, resume=args.resume)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
