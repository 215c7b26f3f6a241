"""The Runs place under load: (1) how long an event written to events.jsonl takes to reach
the screen (Pilot); (2) key press to repaint in tmux while a fake engine logs 50 steps a
second, against the same keys with no run going.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.runjson import read_meta
from cockpit.runs.store import RUNS_DIR_ENV, list_runs
from cockpit.runs.supervisor import ENGINE_MODULE_ENV, start_run
from cockpit.tui.widgets.run_view import RunView
from engines.protocol import read_events
from tests.e2e.tmux import Tmux
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text
from tests.ui.test_snapshots_runs import STEP_S, write_run

COCKPIT = str(Path(sys.executable).parent / "cockpit")
SIZED = "env -u COLUMNS -u LINES {}"
"""Under pytest, readline has exported COLUMNS=80 LINES=24, which would override tmux's size."""
DEMO = Path(__file__).resolve().parents[2] / "profiles" / "tiny-demo-cpu.toml"
EVENTS = 10
KEYS = 20
pytestmark = pytest.mark.wallclock


@pytest.fixture
def runs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(root))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(ENGINE_MODULE_ENV, "tests.fake_engine")
    yield root
    for summary in list_runs(root):
        pgid = read_meta(summary.run_dir / "run.json").get("pgid")
        if summary.active and isinstance(pgid, int):
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)


async def _until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10) -> float:
    """Seconds until ``condition()`` holds, checking every few milliseconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out; the screen was:\n{screen_text(pilot.app)}")
        await pilot.pause(0.005)
    return time.monotonic() - start


async def _event_latencies(root: Path, engine: subprocess.Popen) -> list[float]:
    run = root / "bench-live"
    app = make_app(start_place="runs")
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.screen.query_one(RunView).latest is not None)
        latencies = []
        for step in range(71, 71 + EVENTS):
            event = {"t": time.time(), "kind": "step", "step": step, "loss": 1.0, "lr": 1e-4}
            with open(run / "events.jsonl", "a") as handle:
                handle.write(json.dumps(event) + "\n")
            latencies.append(await _until(pilot, lambda s=step: f"step {s}/" in screen_text(app)))
            await pilot.pause(0.1 * (step % 3))  # land at different points of the poll cycle
    return latencies


def test_event_to_screen_latency(runs_root, report):
    run = runs_root / "bench-live"
    engine = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", str(run)], start_new_session=True
    )
    try:
        write_run(runs_root, "bench-live", done=70, t0=time.time() - 70 * STEP_S - 30,
                  pid=engine.pid, finished=False)  # fmt: skip
        latencies = asyncio.run(_event_latencies(runs_root, engine))
    finally:
        engine.kill()
        engine.wait()
    median = statistics.median(latencies)
    report(
        f"event appended to events.jsonl → on screen (median of {EVENTS})",
        median,
        0.5,
        "s",
        "<= 0.5 s (baseline = the goal); worst " + f"{max(latencies):.3f} s",
    )
    assert max(latencies) < 1.0, f"an event took {max(latencies):.2f} s to show"


def _key_latencies(env: dict[str, str], status: str) -> list[float]:
    """Seconds from a key to its repaint in tmux: the help dialog opened and closed (`?`) over
    the view of the newest run, which has ``status``."""
    term = Tmux(SIZED.format(f"{COCKPIT} --place runs"), 120, 40, {"TERM": "xterm-256color", **env})
    try:
        screen = term.wait_until(lambda s: "ready to start" in s or "─ loss ─" in s, timeout=30)
        if "─ loss ─" not in screen:  # no run going: open the finished one
            term.send("Down")
            term.wait_for("─ loss ─")
        term.wait_for(f"  {status}")
        times = []
        for i in range(KEYS):
            opening = i % 2 == 0
            start = time.monotonic()
            term.send("?")
            while ("Keys · Runs" in term.screen()) != opening:
                if time.monotonic() - start > 10:
                    raise AssertionError(f"help did not {'open' if opening else 'close'}")
            times.append(time.monotonic() - start)
        return times
    finally:
        term.close()


def test_key_to_repaint_while_a_run_logs_50_steps_per_second(
    runs_root, monkeypatch, report, need_tmux
):
    env = {k: os.environ[k] for k in (RUNS_DIR_ENV, CONFIG_DIR_ENV)}
    write_run(runs_root, "finished", done=120, t0=1e9, pid=999_999, finished=True)
    idle = _key_latencies(env, "finished")
    monkeypatch.setenv("FAKE_ENGINE", "steps=100000,delay=0.02")
    run = start_run(DEMO, gpu_sizes_gib=())
    busy = _key_latencies(env, "running")
    steps = read_events(run.events)
    rate = sum(e["kind"] == "step" for e in steps) / (steps[-1]["t"] - steps[0]["t"])
    figure = statistics.quantiles(busy, n=10)[-1]
    report(
        f"key press → repaint in tmux while a run logs {rate:.0f} steps/s (p90 of {KEYS})",
        figure,
        statistics.quantiles(idle, n=10)[-1],
        "s",
        "<= 0.100 s (baseline: the same keys over a finished run)",
    )
    assert figure < 0.5, f"keys took up to {figure:.2f} s to show while a run was logging"
