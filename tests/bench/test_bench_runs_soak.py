"""The Runs place over time, in a real terminal: (1) memory while a live run logs 10,000
steps, against the same place idle for as long; (2) CPU with one finished run whose
events.jsonl is 100 MB in the list, against the place with no runs (both open side by
side, measured in alternated windows), then with that run open in the view.

Memory is the app's resident set (VmRSS), read when the view shows step 1,000 and again at
the last step; the idle baseline is read at the same moments after its start.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV
from tests.bench.soak_runs import write_finished
from tests.bench.test_bench_tui import _app_pid, _cpu_seconds
from tests.e2e.tmux import Tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
STEPS = 10_000
RATE = 1600.0
"""Steps per second the fake engine writes: a fast small-model run, 10,000 steps in ~6 s."""
CPU_WINDOW_S = 3.0
"""CPU seconds are counted in 10 ms ticks: 3 s resolves 0.3 % of a core, enough for < 5 %."""
_STEP = re.compile(r"step (\d+)/(\d+)")

pytestmark = pytest.mark.usefixtures("need_tmux")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _cockpit(root: Path, config: Path) -> tuple[Tmux, int]:
    env = {"TERM": "xterm-256color", RUNS_DIR_ENV: str(root), CONFIG_DIR_ENV: str(config)}
    term = Tmux(f"{COCKPIT} --place runs", 120, 40, env)
    term.wait_for("Runs", timeout=30)
    return term, _app_pid(term, "cockpit")


def _shown_step(screen: str) -> int:
    found = [int(m.group(1)) for m in _STEP.finditer(screen) if int(m.group(2)) == STEPS]
    return max(found, default=0)


def _live_soak(tmp_path: Path) -> tuple[float, float, float, float]:
    """(MB grown from step 1,000 to the end, seconds between, CPU %, steps/s written)."""
    root = tmp_path / "live"
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.soak_runs", "live", str(root / "soak"),
         str(STEPS), str(RATE)],
        start_new_session=True,
    )  # fmt: skip
    term, pid = _cockpit(root, tmp_path / "config")
    try:
        term.wait_until(lambda s: _shown_step(s) >= 1000, timeout=60, what="step 1000")
        rss, cpu, t = _rss_mb(pid), _cpu_seconds(pid), time.monotonic()
        term.wait_until(lambda s: "finished" in s and _shown_step(s) == STEPS, timeout=120)
        elapsed = time.monotonic() - t
        grown, used = _rss_mb(pid) - rss, _cpu_seconds(pid) - cpu
    finally:
        term.close()
        writer.wait(timeout=60)
    return grown, elapsed, used / elapsed * 100, RATE


def _idle_growth(tmp_path: Path, seconds: float) -> float:
    """MB the idle Runs place grows over `seconds`, measured from its first screen."""
    root = tmp_path / "idle"
    root.mkdir()
    term, pid = _cockpit(root, tmp_path / "config")
    try:
        term.wait_for("ready to start", timeout=30)
        rss = _rss_mb(pid)
        time.sleep(seconds)  # the measurement window itself, not synchronisation
        return _rss_mb(pid) - rss
    finally:
        term.close()


def test_memory_of_a_live_run_over_10000_steps(tmp_path, report):
    grown, elapsed, cpu, rate = _live_soak(tmp_path)
    idle = _idle_growth(tmp_path, elapsed)
    report(
        f"Runs place RSS growth from step 1,000 to {STEPS:,} of a live run ({rate:.0f} steps/s, "
        f"{elapsed:.0f} s; app CPU {cpu:.0f} % of a core meanwhile)",
        grown,
        idle,
        "MB",
        "< 5 MB (baseline: the idle Runs place over the same time)",
    )
    assert grown < 50, f"the Runs place grew {grown:.1f} MB over {STEPS} steps"


def _cpu_window(pid: int) -> float:
    """% of a core `pid` uses over one measurement window."""
    cpu, start = _cpu_seconds(pid), time.monotonic()
    time.sleep(CPU_WINDOW_S)  # the measurement window itself, not synchronisation
    return (_cpu_seconds(pid) - cpu) / (time.monotonic() - start) * 100


def test_cpu_with_a_100_mb_finished_run_in_the_list(tmp_path, report):
    big, empty = tmp_path / "big", tmp_path / "empty"
    empty.mkdir()
    run = big / "20261201-120000-huge"
    steps = write_finished(run, 100)
    config = tmp_path / "config"
    (listing, pid), (idle, idle_pid) = _cockpit(big, config), _cockpit(empty, config)
    try:
        listing.wait_for("finished", timeout=60)
        idle.wait_for("ready to start", timeout=60)
        figures, baselines, rss = [], [], []
        for _ in range(2):  # alternate so drift on a shared machine hits both
            figures.append(_cpu_window(pid))
            rss.append(_rss_mb(pid))
            baselines.append(_cpu_window(idle_pid))
        idle_rss = _rss_mb(idle_pid)
        listing.send("Down")  # open the run in the view
        listing.wait_for("─ loss ─", timeout=60)
        listing.wait_for(f"step {steps}/", timeout=60)
        opened_cpu, opened_rss = _cpu_window(pid), _rss_mb(pid)
    finally:
        listing.close()
        idle.close()
    size = os.path.getsize(run / "events.jsonl") / 1e6
    figure, idle_cpu = statistics.median(figures), statistics.median(baselines)
    report(
        f"Runs place CPU with a finished run of {size:.0f} MB events ({steps:,} steps) listed, "
        f"{CPU_WINDOW_S:.0f} s windows (median of 2)",
        figure,
        idle_cpu,
        "% of a core",
        "< 5 % of a core (baseline: the Runs place with no runs)",
    )
    report(
        "  its resident memory, run listed",
        statistics.median(rss),
        idle_rss,
        "MB",
        "(context; baseline: the Runs place with no runs)",
    )
    report("  the same run open in the view: CPU", opened_cpu, idle_cpu, "% of a core", "< 5 %")
    report("  the same run open in the view: RSS", opened_rss, idle_rss, "MB", "(context)")
    assert figure < 50, f"the Runs place used {figure:.0f} % of a core on a finished run"
    assert opened_cpu < 50, f"the open run's view used {opened_cpu:.0f} % of a core"
