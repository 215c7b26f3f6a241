"""Runs side by side in the Runs place: mark with space, compare with v (Pilot + snapshot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.paths import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.tui.screens.compare import CompareScreen
from cockpit.tui.screens.runs import RunsScreen
from tests.compare_fixtures import write_run
from tests.ui import test_snapshots_runs
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for

KEYS = ["down", "space", "down", "space", "v"]
"""The newest run marked [1], the one before [2], then compared."""

utc = test_snapshots_runs.utc  # local time is UTC: the list's start times


@pytest.fixture
def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, utc: None) -> Path:
    """Two finished runs that differ in learning rate and steps; local time is UTC."""
    root = tmp_path / "runs"
    write_run(root, "20261201-100000-tiny-demo-cpu", lr=1e-3, evals=True)
    write_run(root, "20261201-110000-tiny-demo-cpu", lr=5e-3, steps=30)
    monkeypatch.setenv(RUNS_DIR_ENV, str(root))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv("COCKPIT_DATA_PREFLIGHT", "0")
    return root


async def test_marked_runs_compare_their_curves_and_keys(two_runs):
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "ready to start" in screen_text(app))
        await pilot.press("v")  # nothing marked: it says how
        assert not isinstance(app.screen, CompareScreen)
        for key in KEYS:
            await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        text = screen_text(app)
        assert "training loss against step" in text
        assert "[1] • 20261201-110000-tiny-demo-cpu" in text  # marked first
        assert "train.learning_rate  0.005" in text and "train.max_steps" in text
        await pilot.press("c")  # the next curve the runs have: eval loss
        assert "eval loss against step" in screen_text(app)
        await pilot.press("x")
        assert "against tokens" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)
        assert "[1]" in screen_text(app) and "v Compare" in screen_text(app)  # still marked


def test_compare_80x24(snap_compare, two_runs):
    app = make_app(start_place="runs")
    assert snap_compare(app, press=KEYS, terminal_size=(80, 24), run_before=settle)


def test_compare_80x24_no_color(snap_compare, two_runs, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(start_place="runs")
    assert snap_compare(app, press=KEYS, terminal_size=(80, 24), run_before=settle)
