"""Pre-flight on a profile whose JSONL has a malformed line: refused, line named, < 2 s.

Goal (issue 14): the refusal, with "line N", in under 2 s and before any model loads. Each
round starts cold (no cached report): the engine's quick data check runs under the
training interpreter. Baseline: starting that interpreter and importing the engine's data
module, alternated with the check, median of 5.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import pytest

from cockpit.runs import datacheck
from cockpit.runs.preflight import preflight
from tests.unit.test_preflight_data import _malformed

pytestmark = pytest.mark.wallclock


def test_preflight_refuses_a_malformed_line_fast(tmp_path, monkeypatch, report):
    profile = _malformed(tmp_path)
    checks, baselines = [], []
    for round_ in range(5):
        monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / f"cache-{round_}"))
        datacheck._memory.clear()
        start = time.perf_counter()
        check = preflight(profile, gpus=(), hub_probe=None)
        checks.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import engines.data"], check=True)
        baselines.append(time.perf_counter() - start)
        assert any("line 16" in r.message for r in check.refusals)
    report(
        "pre-flight refuses a malformed JSONL line (cold)",
        statistics.median(checks),
        statistics.median(baselines),
        "s",
        "<= 2 s (baseline: start python, import engines.data)",
    )
