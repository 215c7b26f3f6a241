"""SVG snapshots of the Runs place: a finished run's view built from a fixture run directory
(fixed time stamps and time zone, so every number on screen is deterministic), and the
launch pane, each at 80x24 too.

Regenerate after an intended change with ``pytest tests/ui --snapshot-update`` and look at
the SVGs before committing them. ``prepare_live_run`` builds the screenshot of a live run
for ``python -m tests.screenshots``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.tui.widgets.run_launch import LaunchPane
from cockpit.tui.widgets.run_list import RunList
from cockpit.tui.widgets.run_view import RunView
from tests.ui.cockpit_snapshot_app import PYTHON, make_app
from tests.ui.conftest import settle
from tests.ui.test_runs import DEMO, _user_profile

PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "rtx3050-4gb-llama-3.2-3b-qlora.toml"
FINISHED_ID = "20261118-110641-rtx3050-4gb-llama-3.2-3b-qlora"
"""As the run store names a run started at T0 + 1 (UTC)."""
LIVE_ID = "demo-run"
"""The simulated GPU shows a training process for this run id, so "GPU now" has a value."""
T0 = 1_795_000_000.0
TOTAL = 120
STEP_S = 4.0
GIB = 1024**3


def _step(step: int, t0: float) -> dict:
    lr = 2e-4 * min(step / 10, 1.0) * (1 - max(step - 10, 0) / (TOTAL - 10) * 0.9)
    return {
        "t": t0 + 20 + step * STEP_S,
        "kind": "step",
        "step": step,
        "epoch": round(step / TOTAL, 4),
        "loss": round(0.9 + 2.2 * math.exp(-step / 30) + 0.06 * math.sin(step * 1.7), 4),
        "lr": lr,
        "grad_norm": round(0.6 + 0.3 * abs(math.sin(step / 5)), 4),
        "tokens_per_s": round(1830 + 25 * math.sin(step), 1),
        "peak_mem_bytes": int(3.38 * GIB),
    }


def _events(done: int, t0: float, finished: bool) -> list[dict]:
    events = [
        {"t": t0 + 18, "kind": "start", "steps": TOTAL, "epochs": 1, "examples": 960,
         "trainable_params": 24_313_856, "total_params": 3_237_063_680, "backend": "peft",
         "device": "cuda:0", "engine": "sft", "world_size": 1, "resumed_from": None},
        {"t": t0 + 19, "kind": "message", "level": "info", "text": "backend peft (QLoRA 4-bit)"},
    ]  # fmt: skip
    for step in range(1, done + 1):
        events.append(_step(step, t0))
        if step % 40 == 0:
            loss = round(1.05 + 1.6 * math.exp(-step / 30), 4)
            events.append({"t": t0 + 21 + step * STEP_S, "kind": "eval", "step": step,
                           "eval_loss": loss})  # fmt: skip
    if finished:
        end_t = t0 + 30 + done * STEP_S
        events.append({"t": end_t, "kind": "end", "status": "finished", "steps_done": done,
                       "error_class": None, "error_message": None,
                       "adapter_path": f"runs/{FINISHED_ID}/adapter"})  # fmt: skip
    return events


def write_run(root: Path, run_id: str, *, done: int, t0: float, pid: int, finished: bool) -> Path:
    """A run directory as the supervisor and the engine leave it (profile, run.json, events,
    output.log), at step ``done`` of 120."""
    run = root / run_id
    run.mkdir(parents=True)
    (run / "profile.toml").write_text(PROFILE.read_text())
    meta = {
        "version": 1, "id": run_id, "profile": "rtx3050-4gb-llama-3.2-3b-qlora",
        "engine": "sft", "created": t0, "started": t0 + 1, "pid": pid, "pgid": pid,
        "host": socket.gethostname(), "python": PYTHON, "launches": 1, "starts_before": 0,
        "command_text": f"{PYTHON} -m engines run ~/.local/share/cockpit/runs/{run_id}",
    }  # fmt: skip
    if finished:
        meta |= {"ended": t0 + 31 + done * STEP_S, "exit_code": 0, "signal": None}
    (run / "run.json").write_text(json.dumps(meta, indent=2))
    lines = [json.dumps(e) for e in _events(done, t0, finished)]
    (run / "events.jsonl").write_text("\n".join(lines) + "\n")
    output = [f"[cockpit] loading {PROFILE.stem}: Llama-3.2-3B in 4-bit (bitsandbytes)"]
    output += [
        f"{{'loss': '{_step(s, t0)['loss']}', 'grad_norm': '{_step(s, t0)['grad_norm']}', "
        f"'epoch': '{s / TOTAL:.3g}'}}"
        for s in range(max(done - 5, 1), done + 1)
    ]
    if finished:
        output.append(f"[cockpit] adapter saved to runs/{run_id}/adapter")
    (run / "output.log").write_text("\n".join(output) + "\n")
    return run


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC, so start times in the list read the same on any machine."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def fixture_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None) -> Path:
    """A runs folder holding one finished run; paths on screen are the same on any machine."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    monkeypatch.delenv("COCKPIT_ENGINE_MODULE", raising=False)
    monkeypatch.setattr(sys, "executable", PYTHON)
    monkeypatch.setenv("COCKPIT_DATA_PREFLIGHT", "0")  # PYTHON is a path for show: no engine
    write_run(tmp_path / "runs", FINISHED_ID, done=TOTAL, t0=T0, pid=999_999, finished=True)
    return tmp_path / "runs"


async def _open_finished(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("down")
    view = pilot.app.screen.query_one(RunView)
    while view.latest is None:
        await pilot.pause(0.05)
    await settle(pilot)


async def _launch_pane(pilot: Pilot) -> None:
    screen = pilot.app.screen
    while screen.check is None:
        await pilot.pause(0.05)
    await settle(pilot)


def test_runs_finished_run_120x40(snap_compare, fixture_runs):
    app = make_app(start_place="runs")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_open_finished)


def test_runs_launch_pane_80x24(snap_compare, fixture_runs):
    app = make_app(start_place="runs")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_launch_pane)


def test_runs_finished_run_80x24(snap_compare, fixture_runs):
    app = make_app(start_place="runs")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_finished)


def write_refused_profile() -> None:
    """A user profile refused twice over (a misspelt model, a missing data file): a verdict
    longer than the launch pane at 80x24."""
    text = DEMO.read_text().replace("data/demo.jsonl", "/nowhere/data.jsonl")
    text = text.replace("cockpit:tiny-llama", "Qwen/Qwen2.5-0.6B-Instrukt")
    _user_profile("misspelt", text.replace('name = "tiny-demo-cpu"', 'name = "misspelt"'))


def test_runs_launch_pane_refused_80x24(snap_compare, fixture_runs, monkeypatch):
    """A verdict too long for the pane: the keys stay in sight under it."""
    monkeypatch.setenv("HF_HUB_CACHE", "/home/demo/.cache/huggingface/hub")  # named on screen

    async def refused(pilot: Pilot) -> None:
        await _launch_pane(pilot)
        screen = pilot.app.screen
        await pilot.press("n")
        while screen.query_one(LaunchPane).selected_entry.name != "misspelt":
            await pilot.press("down")
        while screen.check is None or screen.check.name != "misspelt":
            await pilot.pause(0.05)
        await settle(pilot)

    write_refused_profile()
    app = make_app(start_place="runs")
    assert snap_compare(app, terminal_size=(80, 24), run_before=refused)


async def prepare_live_run(pilot: Pilot) -> None:
    """For `tests.screenshots`: a run at step 70 of 120, still going, opened in the view.

    Writes the fixture under $COCKPIT_RUNS_DIR (set it to a scratch folder first) and keeps
    a placeholder process alive for a minute as its engine, so it reads as running.
    """
    root = Path(os.environ[RUNS_DIR_ENV])
    t0 = time.time() - (30 + 70 * STEP_S)
    run_dir = root / LIVE_ID
    shutil.rmtree(run_dir, ignore_errors=True)  # a previous screenshot's
    engine = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(run_dir)],
        start_new_session=True,
    )
    write_run(root, LIVE_ID, done=70, t0=t0, pid=engine.pid, finished=False)
    screen = pilot.app.screen
    screen.request_list()
    runs = screen.query_one(RunList)
    while LIVE_ID not in runs.summaries:
        await pilot.pause(0.05)
    runs.select(LIVE_ID)
    while screen.query_one(RunView).latest is None:
        await pilot.pause(0.05)
