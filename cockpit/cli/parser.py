"""The `cockpit` command line: its options and subcommands, and nothing they run.

Kept apart from the commands so `cockpit serve` can check the options it passes on to each
browser session against the same parser, without importing what the commands import.
"""

from __future__ import annotations

import argparse
import math

from cockpit import __version__
from cockpit.hardware.simulated import SIMULATED_MACHINES
from cockpit.settings import PLACES

_SIMULATE_HELP = f"use a simulated machine: {', '.join(sorted(SIMULATED_MACHINES))}"


def _positive_float(text: str) -> float:
    """A finite number > 0 (argparse shows the message; nan and inf are refused)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def simulations_help() -> str:
    """The simulated machines `--simulate` accepts, one per line with what it shows."""
    width = max(map(len, SIMULATED_MACHINES))
    lines = [
        f"  {name:<{width}}  {machine.description}"
        for name, machine in sorted(SIMULATED_MACHINES.items())
    ]
    return "simulated machines (--simulate NAME; labelled SIMULATED on screen):\n" + "\n".join(
        lines
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `cockpit` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="A terminal cockpit for fine-tuning LLMs on your own GPU.",
        epilog=simulations_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    _add_tui_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    watch = sub.add_parser("watch", help="print the hardware snapshot headless")
    watch.add_argument("--once", action="store_true", help="print one snapshot and exit")
    watch.add_argument("--json", action="store_true", help="JSON instead of text lines")
    watch.add_argument("--simulate", metavar="NAME", help=_SIMULATE_HELP)
    watch.add_argument("--interval", type=_positive_float, default=1.0, metavar="S")
    watch.add_argument(
        "--stream",
        action="store_true",
        help="one JSON line per interval with this host's name and active runs (what the "
        "fleet view reads over ssh), until stdin or stdout closes",
    )

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
    estimate.add_argument(
        "--probe", action="store_true", help="also train K real steps on CUDA and measure"
    )
    estimate.add_argument("--steps", type=int, default=3, metavar="K", help="--probe's steps")
    estimate.add_argument(
        "--no-calibration",
        action="store_true",
        help="the plain estimate, without the correction learned from your past runs",
    )

    train = sub.add_parser("train", help="pre-flight, start and follow a training run")
    train.add_argument(
        "profile",
        nargs="?",
        help="a profile file or listed name (default: settings default_profile)",
    )
    train.add_argument("--detach", action="store_true", help="start it and return at once")
    train.add_argument("--force", action="store_true", help="start even if it won't fit")
    train.add_argument("--resume", metavar="RUN_ID", help="resume a run from its last checkpoint")
    train.add_argument(
        "--dry-run",
        action="store_true",
        help="pre-flight and print what would run (the Slurm batch script, the commands per "
        "host) without starting anything",
    )

    runs = sub.add_parser("runs", help="list runs with their status")
    runs.add_argument("--json", action="store_true", help="as a JSON list")
    runs.add_argument(
        "--compare", nargs="+", metavar="RUN_ID", help="these runs side by side (two or more)"
    )
    runs.add_argument(
        "--all-hosts",
        action="store_true",
        help="also the runs of every [[hosts]] machine of the settings, over ssh",
    )

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
    data = sub.add_parser("data", help="check a profile's data as the trainer will see it")
    data.add_argument("profile", help="a profile file or the name of a listed profile")
    data.add_argument("--json", action="store_true", help="the engine's report as one JSON object")
    data.add_argument("--rows", metavar="N,M", help="also preview these file lines")
    try_ = sub.add_parser("try", help="ask a finished run's model (and its base) a question")
    try_.add_argument("run_id", metavar="RUN_ID", help="a run id (or a unique prefix)")
    try_.add_argument("--prompt", help="what to ask")
    try_.add_argument(
        "--sample", type=int, metavar="N", help="ask N held-out rows of its data (reference beside)"
    )
    try_.add_argument("--system", help="a system prompt")
    try_.add_argument("--compare", action="store_true", help="also ask the base model")
    try_.add_argument("--json", action="store_true", help="both answers as one JSON object")
    try_.add_argument("--checkpoint", type=int, metavar="N", help="checkpoint-N, not the adapter")
    try_.add_argument("--max-new-tokens", type=int, default=256, metavar="N", help="default 256")
    try_.add_argument(
        "--temperature", type=float, default=0.0, metavar="T", help="0 = greedy (default)"
    )
    try_.add_argument("--top-p", type=float, default=1.0, metavar="P", help="default 1.0")
    export = sub.add_parser("export", help="ship a run's model: merged, an Ollama Modelfile, GGUF")
    export.add_argument("run_id", metavar="RUN_ID", help="a run id (or a unique prefix)")
    export.add_argument("--to", choices=("merged", "ollama", "gguf"), required=True)
    export.add_argument(
        "--quant", choices=("f16", "q8_0", "q4_k_m"), default="q8_0", help="GGUF type"
    )
    export.add_argument("--name", help="the Ollama model name (default: the run id)")
    export.add_argument("--system", help="a system prompt for the Ollama model")
    export.add_argument("--checkpoint", type=int, metavar="N", help="checkpoint-N's adapter")
    notify = sub.add_parser("notify", help="try the run-end notification ([notify] urls)")
    notify.add_argument(
        "run_id", nargs="?", metavar="RUN_ID", help="send this run's ending (default: a test)"
    )
    serve = sub.add_parser("serve", help="the same cockpit in a browser tab (localhost only)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, metavar="N", help="port (default 8000)")
    _add_tui_options(serve)
    return parser


def _add_tui_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--simulate", metavar="NAME", help="show a simulated machine (demo): a NAME listed below"
    )
    parser.add_argument("--python", metavar="PATH", help="training interpreter the Doctor checks")
    parser.add_argument(
        "--refresh",
        type=_positive_float,
        metavar="S",
        help="hardware refresh interval in seconds (default: settings, else 1)",
    )
    parser.add_argument("--place", choices=PLACES, help="place to open (default: settings)")
