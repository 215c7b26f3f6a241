"""Run `python -m engines probe` under the profile's training interpreter and read its report.

The probe trains K real steps, so it runs where the training stack is (like the trace,
never in cockpit's process) and takes as long as loading the model and K steps take. Its
report is the last line of its output; what it measured is recorded for calibration by
the caller (`cockpit.vram.measurements`).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit.isolated import run_isolated

DEFAULT_TIMEOUT_S = 1800.0
"""Loading a large model from disk and K steps: minutes, not hours."""
EXIT_NO_CUDA, EXIT_OOM = 2, 3
_ENGINES_ROOT = Path(__file__).resolve().parents[2]
_TAIL = 1500


class ProbeFailed(Exception):
    """The probe did not measure; `no_cuda` when the interpreter sees no CUDA GPU."""

    def __init__(self, message: str, no_cuda: bool = False) -> None:
        super().__init__(message)
        self.no_cuda = no_cuda


@dataclass(frozen=True)
class ProbeReport:
    """What the engine measured (bytes) and on what."""

    allocated_bytes: int
    reserved_bytes: int
    gpu_name: str
    steps: int
    out_of_memory: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_ENGINES_ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def parse_report(stdout: str, returncode: int | None) -> ProbeReport:
    """The report on the last line of the probe's output; ProbeFailed when it has none."""
    lines = stdout.strip().splitlines()
    try:
        data = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise ProbeFailed(f"the probe printed no report: {stdout[-_TAIL:]}") from None
    if not isinstance(data, dict):
        raise ProbeFailed("the probe printed something other than a report")
    if returncode == EXIT_NO_CUDA or "allocated_bytes" not in data:
        raise ProbeFailed(str(data.get("error", "the probe measured nothing")), no_cuda=True)
    return ProbeReport(
        int(data["allocated_bytes"]),
        int(data["reserved_bytes"]),
        str(data.get("gpu_name", "")),
        int(data.get("steps", 0)),
        returncode == EXIT_OOM,
        data,
    )


def run_probe(
    profile_path: str | os.PathLike[str],
    python: str | None = None,
    steps: int = 3,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ProbeReport:
    """K steps of the profile under `python` (default: this interpreter)."""
    argv = [python or sys.executable, "-m", "engines", "probe", str(profile_path)]
    argv += ["--steps", str(steps), "--json"]
    outcome = run_isolated(argv, timeout, env=_environment())
    if outcome.start_error:
        raise ProbeFailed(f"could not start {argv[0]}: {outcome.start_error}")
    if outcome.timed_out:
        raise ProbeFailed(f"the probe took more than {timeout:g} s and was stopped")
    if outcome.returncode not in (0, EXIT_NO_CUDA, EXIT_OOM):
        how = outcome.signal_name or f"exit code {outcome.returncode}"
        raise ProbeFailed(f"the probe failed ({how}): {outcome.stderr.strip()[-_TAIL:]}")
    return parse_report(outcome.stdout, outcome.returncode)
