"""The Runs place beside a damaged run folder (issue 10, #6, #7): the healthy run and the
damaged one are both listed, the damaged one as `unreadable`, and opening it says why.

Before, one such folder emptied the list silently (the listing worker raised or hung).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.tui.widgets.run_list import RunList
from cockpit.tui.widgets.run_view import RunView
from tests.damaged_runs import good_run, nested, spoil
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, wait_for

BAD = "bad-run"


def _meta(text: str) -> Callable[[Path], None]:
    return lambda run: (run / "run.json").write_text(text)


def _live_pid_2_70(run: Path) -> None:
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "pid": 2**70, "exit_code": None}))


DAMAGES = {
    "events.jsonl a FIFO": (lambda run: spoil(run / "events.jsonl", "fifo"), "FIFO"),
    "run.json a FIFO": (lambda run: spoil(run / "run.json", "fifo"), "FIFO"),
    "run.json NaN": (_meta('{"pid": NaN}'), "NaN"),
    "pid 2**70": (_live_pid_2_70, "pid"),
    "nested 10^5": (_meta(nested(100_000)), "nested"),
}


@pytest.mark.parametrize("damage, reason", DAMAGES.values(), ids=DAMAGES.keys())
async def test_a_damaged_run_is_one_unreadable_row_beside_the_good_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[Path], None],
    reason: str,
) -> None:
    root = tmp_path / "runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(root))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    good_run(root, "good-run", profile="good-profile", created=1.7e9 - 10)
    damage(good_run(root, BAD))
    app = make_app(start_place="runs")
    async with app.run_test(size=(110, 34)) as pilot:
        try:
            await _check_rows_and_view(pilot, app, reason)
        finally:
            _release_fifo_readers(root)  # a reader stuck on a FIFO fails the test, not hangs it


async def _check_rows_and_view(pilot: Pilot, app: App, reason: str) -> None:
    """Both rows listed, the damaged one unreadable with the reason; opening it says why."""
    runs = app.screen.query_one(RunList)
    await wait_for(pilot, lambda: {"good-run", BAD} <= set(runs.summaries), timeout=5)
    assert runs.summaries["good-run"].status == "finished"
    assert runs.summaries[BAD].status == "unreadable"
    assert reason in runs.summaries[BAD].reason
    text = screen_text(app)
    assert "good-profile" in text and "unreadable" in text and BAD in text
    runs.select(BAD)  # open it: the view says why it cannot be read
    view = app.screen.query_one(RunView)
    await wait_for(pilot, lambda: view.latest is not None, timeout=5)
    assert view.latest.update.summary.status == "unreadable"
    await wait_for(pilot, lambda: reason in screen_text(app), timeout=5)


def _release_fifo_readers(root: Path) -> None:
    """Open and close every FIFO under `root` for writing: a reader blocked opening one
    (the defect) gets its end of file and its worker can finish."""
    for path in root.rglob("*"):
        if stat.S_ISFIFO(path.lstat().st_mode):
            os.close(os.open(path, os.O_RDWR | os.O_NONBLOCK))


HOSTILE_ID = "run\x1b]0;PWNED\x07\x1b[2J\x9b31m"
"""A run folder named by someone else: set the window title, clear the screen, a C1 CSI."""


async def test_control_characters_in_a_run_folder_name_are_shown_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(root))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    good_run(root, HOSTILE_ID, profile="", reason="")
    app = make_app(start_place="runs")
    async with app.run_test(size=(110, 34)) as pilot:
        runs = app.screen.query_one(RunList)
        await wait_for(pilot, lambda: HOSTILE_ID in runs.summaries, timeout=5)
        runs.select(HOSTILE_ID)
        view = app.screen.query_one(RunView)
        await wait_for(pilot, lambda: view.latest is not None, timeout=5)
        await pilot.pause()
        text = screen_text(app)
        assert text.count("run^[]0;PWNED^[[2J\\x9b31m") >= 2  # the list and the view (BEL dropped)
        assert not any(char in text for char in "\x1b\x07\x9b")
