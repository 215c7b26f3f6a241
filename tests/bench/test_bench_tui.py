"""First paint and idle cost of the TUI, each against a minimal Textual app run alongside."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.tmux import Tmux

BIN = Path(sys.executable).parent
MINIMAL = f"{sys.executable} {Path(__file__).with_name('minimal_app.py')}"
COCKPIT = str(BIN / "cockpit")
ENV = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}

pytestmark = pytest.mark.usefixtures("need_tmux")


def _time_to_paint(command: str, *ready: str, width: int = 80, height: int = 24) -> list[float]:
    """Seconds from starting `command` in tmux until each text of `ready` is on screen."""
    start = time.monotonic()
    term = Tmux(command, width, height, ENV)
    try:
        return [term.wait_for(text, timeout=30) and time.monotonic() - start for text in ready]
    finally:
        term.close()


@pytest.mark.wallclock
def test_first_paint_vs_minimal_textual_app(report):
    paint, data, minimal = [], [], []
    for _ in range(5):  # alternate so drift on a shared machine hits both
        minimal += _time_to_paint(MINIMAL, "minimal app ready")
        first, host = _time_to_paint(COCKPIT, "Hardware", "RAM")
        paint.append(first)
        data.append(host)
    baseline = statistics.median(minimal)
    ratio = report(
        "first paint in tmux (median of 5)",
        statistics.median(paint),
        baseline,
        "s",
        "ratio <= 1.5",
    )
    report(
        "first live data (host RAM shown) in tmux (median of 5)",
        statistics.median(data),
        baseline,
        "s",
        "(context: one sample after the first paint)",
    )
    assert ratio < 5, "cockpit's first paint regressed badly against a minimal Textual app"


def _cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of `pid` and its children that have been waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks


def _app_pid(term: Tmux, needle: str) -> int:
    pane = subprocess.run(
        [*term._tmux, "list-panes", "-t", term.name, "-F", "#{pane_pid}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    out = subprocess.run(["pgrep", "-P", pane, "-f", needle], capture_output=True, text=True)
    pids = out.stdout.split()
    assert pids, f"no {needle} process under tmux pane {pane}"
    return int(pids[0])


def test_idle_cpu_at_1hz_simulated(report):
    seconds = float(os.environ.get("COCKPIT_BENCH_IDLE_S", "10"))  # ten 1 Hz refreshes
    cockpit = Tmux(f"{COCKPIT} --simulate rtx3050-4gb", 80, 24, ENV)
    minimal = Tmux(MINIMAL, 80, 24, ENV)
    try:
        cockpit.wait_for("SIMULATED", timeout=30)
        minimal.wait_for("minimal app ready", timeout=30)
        pids = _app_pid(cockpit, "cockpit"), _app_pid(minimal, "minimal_app")
        before = [_cpu_seconds(p) for p in pids]
        time.sleep(seconds)  # the measurement window itself, not synchronisation
        after = [_cpu_seconds(p) for p in pids]
    finally:
        cockpit.close()
        minimal.close()
    pct = [(a - b) / seconds * 100 for a, b in zip(after, before, strict=True)]
    report(
        f"idle CPU, Hardware at 1 Hz simulated, {seconds:.0f} s",
        pct[0],
        pct[1],
        "% of a core",
        "<= 1% of one core",
    )
    assert pct[0] < 10, f"cockpit idles at {pct[0]:.1f}% of a core"
