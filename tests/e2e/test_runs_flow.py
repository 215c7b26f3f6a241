"""Issue 4's walk in a real terminal with the REAL engine: launch the tiny demo from the Runs
place, watch the step counter move, quit cockpit mid-run, start it again and find the same
run still progressing, stop it, resume it, stop it again.

The demo profile is copied into a scratch config folder with more steps (it shadows the
shipped one, so it is the launch pane's first entry) so that it trains long enough; runs,
the tiny model cache and the config all live in tmp.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.runs.runjson import read_meta
from tests.e2e.tmux import Tmux
from tests.system_tools import need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
SHIPPED = Path(__file__).resolve().parents[2] / "profiles"
STEPS = 100_000  # never finishes during the test: it is stopped, resumed and stopped

pytestmark = pytest.mark.e2e


def _step(screen: str) -> int:
    match = re.search(rf"step (\d+)/{STEPS}", screen)
    return int(match.group(1)) if match else -1


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for cockpit in tmp; kills every run's process group afterwards."""
    need_tmux()
    profiles = tmp_path / "config" / "profiles"
    profiles.mkdir(parents=True)
    text = (SHIPPED / "tiny-demo-cpu.toml").read_text()
    text = text.replace("max_steps = 30", f"max_steps = {STEPS}")
    text = text.replace('"data/demo.jsonl"', f'"{SHIPPED / "data" / "demo.jsonl"}"')
    (profiles / "tiny-demo-cpu.toml").write_text(text)
    env = {
        "TERM": "xterm-256color",
        "COCKPIT_CONFIG_DIR": str(tmp_path / "config"),
        "COCKPIT_RUNS_DIR": str(tmp_path / "runs"),
        "COCKPIT_CACHE_DIR": str(tmp_path / "cache"),
    }
    yield env
    for run_json in (tmp_path / "runs").glob("*/run.json"):
        pgid = read_meta(run_json).get("pgid")
        if isinstance(pgid, int):
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)


def _open_runs(env: dict[str, str]) -> Tmux:
    # Under pytest, readline has exported COLUMNS=80 LINES=24: they would win over tmux's size.
    term = Tmux(f"env -u COLUMNS -u LINES {COCKPIT}", 100, 30, env)
    term.wait_for("Hardware", "RAM", timeout=30)
    term.press("4")
    return term


def _stop(term: Tmux) -> str:
    term.wait_until(lambda s: "x Stop" in s, what="the stop key")
    term.press("x")
    term.wait_for("Stop the run?")
    term.press("y")
    return term.wait_until(
        lambda s: re.search(r"\bstopped\b", s) is not None and "Stop the run?" not in s,
        timeout=90,
        what="the run stopped",
    )


def test_launch_quit_reattach_stop_resume(scratch):
    term = _open_runs(scratch)
    try:
        term.wait_for("ready to start", "tiny-demo-cpu")
        term.press("s")
        first = _step(term.wait_until(lambda s: _step(s) >= 1, timeout=120, what="step 1"))
        term.wait_until(lambda s: _step(s) > first, timeout=60, what="the step counter moving")
        term.send("q")
        term.wait_for("[exited")
    finally:
        term.close()
    before = first + 1
    term = _open_runs(scratch)
    try:
        screen = term.wait_until(lambda s: "running" in s and _step(s) >= before, timeout=30,
                                 what="the same run re-attached")  # fmt: skip
        term.wait_until(lambda s: _step(s) > _step(screen), timeout=60, what="still progressing")
        stopped = _step(_stop(term))
        assert "resume from the last checkpoint with r" in term.screen()
        term.press("r")
        term.wait_until(
            lambda s: "running" in s and _step(s) > stopped, timeout=120, what="resumed training"
        )
        _stop(term)
    finally:
        term.close()
