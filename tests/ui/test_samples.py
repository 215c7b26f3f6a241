"""GRPO's samples in the Runs place: the live no-signal warning and the samples view (g)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.paths import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.tui.screens.samples import SamplesScreen
from tests.ui import test_snapshots_runs
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for

RUN_ID = "20261201-100000-tiny-grpo-cpu"
T0 = 1_765_000_000.0
SECRET = "hf_abcdefghijklmnopqrstuvwxyzABCDEF"

utc = test_snapshots_runs.utc  # local time is UTC: the list's start times


def _samples(step: int) -> dict:
    texts = [f"<answer>42</answer> token {SECRET}", *(f"It is {40 + i}.\x1b[2J" for i in (1, 2, 3))]
    rows = [
        {"text": text, "rewards": {"format": 1.0 if i == 0 else 0.0, "exact_match": 0.0},
         "total": 1.0 if i == 0 else 0.0, "advantage": None}
        for i, text in enumerate(texts)
    ]  # fmt: skip
    flat = [dict(r, rewards={"format": 0.0, "exact_match": 0.0}, total=0.0) for r in rows]
    varied = step == 1
    group = {
        "prompt": "system: give the number in <answer></answer>\nuser: What is 6 × 7?",
        "size": 4, "reward_std": {"format": 0.5 if varied else 0.0, "exact_match": 0.0},
        "total_std": 0.5 if varied else 0.0, "completions": rows if varied else flat,
    }  # fmt: skip
    return {"kind": "samples", "t": T0 + step, "step": step, "groups": [group]}


def write_grpo_run(root: Path) -> Path:
    """A finished 7-step GRPO run in `root`: its rewards varied at step 1, then never again."""
    run = root / RUN_ID
    run.mkdir(parents=True)
    events = [{"kind": "start", "t": T0, "steps": 7, "engine": "grpo", "backend": "peft",
               "device": "cpu", "world_size": 1}]  # fmt: skip
    for step in range(1, 8):
        reward = 0.25 if step == 1 else 0.0
        rewards = {"format": reward, "exact_match": 0.0}
        events.append({"kind": "step", "t": T0 + step, "step": step, "loss": 0.01,
                       "reward": reward, "rewards": rewards})  # fmt: skip
        events.append(_samples(step))
    events.append({"kind": "end", "t": T0 + 8, "status": "finished", "steps_done": 7})
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    meta = {"id": RUN_ID, "profile": "tiny-grpo-cpu", "engine": "grpo", "created": T0,
            "started": T0, "ended": T0 + 8, "exit_code": 0}  # fmt: skip
    (run / "run.json").write_text(json.dumps(meta))
    shipped = Path(__file__).resolve().parents[2] / "profiles" / "tiny-grpo-cpu.toml"
    (run / "profile.toml").write_text(shipped.read_text())
    return run


@pytest.fixture
def grpo_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None) -> Path:
    """The GRPO run above in a runs folder of its own; local time is UTC."""
    run = write_grpo_run(tmp_path / "runs")
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv("COCKPIT_DATA_PREFLIGHT", "0")
    return run


async def test_the_run_warns_and_g_shows_the_samples_redacted(grpo_run):
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: "ready to start" in screen_text(app))
        await pilot.press("down")
        await wait_for(pilot, lambda: "No reward signal for 6 logged steps" in screen_text(app))
        assert "(constant: 'exact_match', 'format')" in screen_text(app)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, SamplesScreen))
        text = app.screen.query_one("#samples-steps").render().plain  # all of it, scrolled or not
        assert text.index("step 7") < text.index("step 1")  # newest first
        assert "total 1.000" in text and "format 1.000" in text  # step 1 told them apart
        assert SECRET not in text and "^[[2J" in text  # redacted; escapes shown, not sent
        assert SECRET not in screen_text(app)


def test_grpo_run_warning_80x24(snap_compare, grpo_run):
    app = make_app(start_place="runs")
    assert snap_compare(app, press=["down"], terminal_size=(80, 24), run_before=settle)


def test_grpo_samples_80x24(snap_compare, grpo_run):
    app = make_app(start_place="runs")
    assert snap_compare(app, press=["down", "g"], terminal_size=(80, 24), run_before=settle)
