"""Wall time of `cockpit doctor` against importing torch once in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

COCKPIT = str(Path(sys.executable).parent / "cockpit")


def _wall(argv: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return time.monotonic() - start, done


@pytest.mark.wallclock
def test_doctor_wall_time(report):
    baseline, _ = _wall([sys.executable, "-c", "import torch, transformers"])
    wall, done = _wall([COCKPIT, "doctor", "--json"])
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.lstrip().startswith("[")
    report(
        "cockpit doctor --json wall",
        wall,
        baseline,
        "s",
        "<= 10 s (baseline: import torch+transformers once)",
    )
    assert wall < 60
