"""Rough edges a new user hit in the Runs place (issue 13), each reproduced as it was seen:
arrow keys moving an empty runs list instead of the profile picker, two runs of a profile
that looked the same, a crashed run still "waiting for the first step…", and keys out of
sight at 80x24.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App
from textual.widgets import OptionList

from cockpit.tui.widgets.loss_chart import LossChart
from cockpit.tui.widgets.run_list import RunList
from cockpit.tui.widgets.run_view import RunView
from tests.ui import test_runs, test_snapshots_runs
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for
from tests.ui.test_logs import footer_row, shown_keys
from tests.ui.test_runs import _highlight_profile, head, open_runs
from tests.ui.test_snapshots_runs import T0, TOTAL, write_refused_profile, write_run

runs_env = test_runs.runs_env
"""A scratch runs folder and the fake engine (the Runs tests' fixture)."""
utc = test_snapshots_runs.utc
"""Local time is UTC."""

PROFILE = "rtx3050-4gb-llama-3.2-3b-qlora"


def _write_runs(root: Path, *starts: float) -> list[str]:
    """Finished runs of one profile, started at these times, named as the store names them."""
    ids = []
    for t0 in starts:
        run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime(t0 + 1)) + f"-{PROFILE}"
        write_run(root, run_id, done=TOTAL, t0=t0, pid=999_999, finished=True)
        ids.append(run_id)
    return ids


async def test_with_no_runs_the_arrow_keys_move_the_profile_picker(runs_env):
    """Seen: on arrival ↓ moved the runs list, which held only "new run"."""
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        await open_runs(pilot)
        picker = app.screen.query_one("#launch-profiles", OptionList)
        assert app.focused is picker
        first = picker.highlighted
        await pilot.press("down")
        await wait_for(pilot, lambda: app.screen.check and app.screen.check.name != "tiny-demo-cpu")
        assert picker.highlighted == first + 1
        assert f"cockpit train {picker.highlighted_option.id}" in screen_text(app)
        await pilot.press("escape")  # back to the (empty) list, as before
        assert isinstance(app.focused, RunList)


async def test_with_runs_the_list_keeps_the_keys_and_down_opens_the_newest(runs_env, utc):
    newest = _write_runs(runs_env, T0, T0 + 3600)[-1]
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: newest in app.screen.query_one(RunList).summaries)
        assert isinstance(app.focused, RunList)
        await pilot.press("down")
        await wait_for(pilot, lambda: head(app) == f"{newest} finished")


async def test_two_runs_of_one_profile_show_when_they_started_and_a_short_id(runs_env, utc):
    """Seen: two runs of a profile were two identical lines in the list."""
    first, second = _write_runs(runs_env, T0, T0 + 3600)
    app = make_app(start_place="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.query_one(RunList).summaries) == 2)
        await settle(pilot)
        rows = [row for row in screen_text(app).splitlines() if "finished 120/120" in row]
        assert len(rows) == 2 and rows[0] != rows[1], rows
        assert "Nov 18 12:06  20261118-120641" in rows[0]  # newest first, local time (UTC)
        assert "Nov 18 11:06  20261118-110641" in rows[1]
        assert all(len(row) <= 80 and row.endswith("│") for row in rows)
        assert first.startswith("20261118-110641") and second.startswith("20261118-120641")


async def _ended_before_a_step(app: App, pilot, status: str) -> str:
    await open_runs(pilot)
    await pilot.press("s")
    await wait_for(pilot, lambda: status in head(app))
    chart = app.screen.query_one(RunView).query_one(LossChart)
    await wait_for(pilot, lambda: chart.empty.startswith(status))
    return screen_text(app)


async def test_a_run_killed_before_its_first_step_says_so_in_its_chart(runs_env, monkeypatch):
    """Seen: a crashed run's view still said "waiting for the first step…"."""
    monkeypatch.setenv("FAKE_ENGINE", "steps=0,then=crash:SIGKILL")
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        text = await _ended_before_a_step(app, pilot, "crashed")
        assert "waiting for the first step" not in text
        assert "crashed before its first step: SIGKILL" in text


async def test_a_run_that_failed_before_its_first_step_names_the_error(runs_env, monkeypatch):
    monkeypatch.setenv("FAKE_ENGINE", "steps=0,then=raise")
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        text = await _ended_before_a_step(app, pilot, "failed")
        assert "waiting for the first step" not in text
        assert "failed before its first step: ValueError" in text


async def test_at_80x24_a_long_refusal_leaves_the_keys_in_sight(runs_env):
    """Seen: at 80x24 the launch pane's keys were below a long verdict, out of sight."""
    write_refused_profile()
    app = make_app(start_place="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_runs(pilot)
        await _highlight_profile(pilot, "misspelt")
        await wait_for(pilot, lambda: "refused to start" in screen_text(app))
        assert "c copy the command" in screen_text(app)
        row = footer_row(app)
        assert all(name in row for name in shown_keys(app)), (row, shown_keys(app))
