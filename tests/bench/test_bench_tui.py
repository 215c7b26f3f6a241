"""First paint, place switches and idle cost of the TUI, each against a minimal Textual app
run alongside."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.paths import RUNS_DIR_ENV
from cockpit.profiles.store import CONFIG_DIR_ENV
from tests.bench.pty_app import PtyApp
from tests.e2e.tmux import Tmux

BIN = Path(sys.executable).parent
MINIMAL = f"{sys.executable} {Path(__file__).with_name('minimal_app.py')}"
MINIMAL_PLACES = f"{sys.executable} {Path(__file__).with_name('minimal_places.py')}"
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


PLACE_MARKS = {"3": "Plan for", "4": "new run", "5": "No log open", "2": "Target interpreter"}
"""Each place's key and a text its first frame shows (none of the other places shows it);
the Doctor last, as its probes keep the machine busy for a while after its first visit."""
TITLES = {"2": "Doctor", "3": "Profiles", "4": "Runs", "5": "Logs"}
REVISITS = "3141524135"
"""Keys to places already visited, each a switch (never the place already shown)."""


def _until_shown(term: Tmux, key: str, text: str, timeout: float = 30) -> float:
    """Seconds from sending `key` until `text` is on screen (polled as fast as tmux answers)."""
    start = time.monotonic()
    term.send(key)
    while text not in term.screen():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{text!r} never showed after {key!r}:\n{term.screen()}")
        time.sleep(0.005)  # poll interval: leaves the CPU to the app being measured
    return time.monotonic() - start


def _minimal_switches() -> tuple[float, list[float]]:
    """The minimal two-mode app: its first switch to a new mode, then switches back and forth."""
    term = Tmux(MINIMAL_PLACES, 80, 24, ENV)
    try:
        term.wait_for("first place ready", timeout=30)
        first = _until_shown(term, "2", "second place ready")
        marks = {"1": "first place ready", "2": "second place ready"}
        again = [_until_shown(term, k, marks[k]) for k in "12" * (len(REVISITS) // 2)]
        return first, again
    finally:
        term.close()


def _cockpit_switches(env: dict[str, str]) -> tuple[dict[str, float], list[float]]:
    """cockpit from Hardware: the first visit to each place, then switches between them."""
    term = Tmux(f"{COCKPIT} --simulate rtx3050-4gb", 80, 24, {**ENV, **env})
    try:
        term.wait_for("RAM", timeout=30)  # the first sample is in: the app is idle
        first = {key: _until_shown(term, key, mark) for key, mark in PLACE_MARKS.items()}
        marks = {"1": "RAM", **PLACE_MARKS}
        again = [_until_shown(term, key, marks[key]) for key in REVISITS]
        return first, again
    finally:
        term.close()


@pytest.mark.wallclock
def test_place_switches_vs_minimal_textual_app(tmp_path, report):
    env = {RUNS_DIR_ENV: str(tmp_path / "runs"), CONFIG_DIR_ENV: str(tmp_path / "config")}
    firsts: dict[str, list[float]] = {key: [] for key in PLACE_MARKS}
    baseline_first, again, baseline_again = [], [], []
    for _ in range(5):  # alternate so drift on a shared machine hits both
        first, switches = _minimal_switches()
        baseline_first.append(first)
        baseline_again += switches
        visits, switches = _cockpit_switches(env)
        for key, seconds in visits.items():
            firsts[key].append(seconds)
        again += switches
    baseline = statistics.median(baseline_first)
    for key, seconds in firsts.items():
        report(
            f"first visit to {TITLES[key]} in tmux (median of 5)",
            statistics.median(seconds),
            baseline,
            "s",
            "<= 0.5 s (baseline: a minimal Textual app's first switch to a new mode)",
        )
    p90 = statistics.quantiles(again, n=10)[-1]
    report(
        f"key → repaint switching between visited places in tmux (p90 of {len(again)})",
        p90,
        statistics.quantiles(baseline_again, n=10)[-1],
        "s",
        "<= 0.100 s (baseline: the minimal app switching between its two modes)",
    )
    slowest = max(statistics.median(seconds) for seconds in firsts.values())
    assert slowest < 5, f"a first visit took {slowest:.1f} s"


def _pty_switches(argv: list[str], env: dict[str, str], marks: dict[str, str], first_visits: str,
                  again: str) -> list[float]:  # fmt: skip
    """Seconds from each key of `again` to its place's text on the app's own pty, once
    `first_visits` have built the places."""
    app = PtyApp(argv, {**ENV, **env})
    try:
        app.wait_for(marks["1"])
        for key in first_visits:
            app.key_to_text(key, marks[key])
        return [app.key_to_text(key, marks[key]) for key in again]
    finally:
        app.close()


@pytest.mark.wallclock
def test_key_to_frame_on_a_pty_vs_minimal_textual_app(tmp_path, report):
    """Key → repaint again, without tmux between (tests/bench/pty_app.py): whether tmux's
    clients and redraw are what the figure above measures. They are not: the minimal app
    reads the same ~0.1 s p90 both ways on this project's 2-core machine."""
    env = {RUNS_DIR_ENV: str(tmp_path / "runs"), CONFIG_DIR_ENV: str(tmp_path / "config")}
    cockpit = [COCKPIT, "--simulate", "rtx3050-4gb"]
    minimal = [sys.executable, str(Path(__file__).with_name("minimal_places.py"))]
    minimal_marks = {"1": "first place ready", "2": "second place ready"}
    marks = {"1": "RAM", **PLACE_MARKS}
    switches, baseline = [], []
    for _ in range(5):  # alternate so drift on a shared machine hits both
        baseline += _pty_switches(minimal, env, minimal_marks, "2", "12" * 5)
        switches += _pty_switches(cockpit, env, marks, "3452", REVISITS)
    p90 = statistics.quantiles(switches, n=10)[-1]
    ratio = report(
        f"key → repaint switching between visited places, on a pty (p90 of {len(switches)})",
        p90,
        statistics.quantiles(baseline, n=10)[-1],
        "s",
        "(context: the tmux figure without tmux; baseline: the minimal app, on a pty too)",
    )
    assert p90 < 1.0 and ratio < 10, "switching places regressed badly"
