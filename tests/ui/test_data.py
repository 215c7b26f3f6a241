"""The Data place (key 6): a profile's data check shown, findings, rows previewed.

Most tests feed the screen a report the real engine made once for the session (the tiny
demo model's tokenizer on a prompt/completion file with rows cut at max_seq_length = 64,
an empty completion and a malformed line); one runs the engine end to end.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.tui.screens import data as data_screen
from cockpit.tui.widgets.data_findings import DataFindingTable
from tests.datacheck_fixtures import (
    EMPTY_LINE,
    LONG_LINE,
    engine_cache,  # noqa: F401  (fixture)
    offline_engine,  # noqa: F401  (fixture)
    write_broken_case,
)
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for

SOURCE = "/home/demo/data/broken.jsonl"


@pytest.fixture(scope="session")
def recorded(tmp_path_factory, engine_cache) -> dict[str, Any]:  # noqa: F811
    """The real engine's report on the broken case (line 30 asked for), paths made fixed."""
    from cockpit.runs.datacheck import run_data_check

    profile = write_broken_case(tmp_path_factory.mktemp("recorded"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COCKPIT_CACHE_DIR", str(engine_cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        report, error = run_data_check(profile, rows=(LONG_LINE,))
    assert report is not None, error
    report["source"] = SOURCE
    report["tokenizer"]["source"] = "/home/demo/.cache/cockpit/tiny-llama"
    return report


class FakeCheck:
    """Stands in for `run_data_check`: answers `report`, records each call."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        self.calls: list[tuple[str, tuple[int, ...]]] = []
        self.hold: Callable[[Callable[[], bool]], None] | None = None
        self.error: str | None = None

    def __call__(self, path, python=None, rows=(), *, progress=None, cancelled=None, **_):
        self.calls.append((Path(path).name, tuple(rows)))
        if progress is not None:
            progress(0.5)
        if self.hold is not None and cancelled is not None:
            self.hold(cancelled)
            if cancelled():
                return None, "cancelled"
        if self.error:
            return None, self.error
        return copy.deepcopy(self.report), None


@pytest.fixture
def profiles(tmp_path, monkeypatch) -> Path:
    """A user config folder holding broken.toml (and its data)."""
    config = tmp_path / "config"
    monkeypatch.setenv(CONFIG_DIR_ENV, str(config))
    return write_broken_case(config / "profiles")


@pytest.fixture
def fake(recorded, profiles, monkeypatch) -> FakeCheck:
    check = FakeCheck(recorded)
    monkeypatch.setattr(data_screen, "run_data_check", check)
    return check


def data_app(default: str = "broken"):
    app = make_app(start_place="data")
    app.settings = replace(app.settings, default_profile=default)
    return app


def _screen(pilot: Pilot) -> data_screen.DataScreen:
    screen = pilot.app.screen
    assert isinstance(screen, data_screen.DataScreen)
    return screen


async def _checked(pilot: Pilot) -> None:
    await settle(pilot)
    await wait_for(pilot, lambda: _screen(pilot).report is not None)


async def _select(pilot: Pilot, finding: str) -> None:
    table = pilot.app.screen.query_one(DataFindingTable)
    table.focus()
    ids = [f["id"] for f in table.findings]
    table.move_cursor(row=ids.index(finding), animate=False)
    await settle(pilot)


def _underlined(app, text: str) -> bool | None:
    """Whether `text` is drawn underlined on screen (None when it is not on screen)."""
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if text in segment.text:
                return bool(segment.style and segment.style.underline)
    return None


async def test_the_histogram_marks_the_limit_with_the_rows_cut(fake):
    app = data_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await _checked(pilot)
        shown = screen_text(app)
        assert "Token lengths  │ max_seq_length = 64" in shown
        assert "│64" in shown
        chart = [line for line in shown.splitlines() if "█" in line]
        assert chart and all("│" in line for line in chart)
        assert "28 rows over 64 (1,594 tokens cut)" in shown
        assert "✗ 2 errors · ! 1 warning" in shown
        assert "prompt-completion — detected from the columns 'prompt' + 'completion'" in shown
        assert fake.calls == [("broken.toml", ())]


async def test_a_finding_selected_shows_its_detail_fix_and_lines(fake):
    app = data_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await _checked(pilot)
        await _select(pilot, "data_truncated")
        shown = screen_text(app)
        assert "! WARNING  data_truncated" in shown
        assert "28 of 40 rows (70.0 %) are longer than max_seq_length = 64" in shown
        assert "raise [model] max_seq_length (max_seq_length = 192 fits every row" in shown
        assert "line 4" in shown and "line 5" in shown
        await _select(pilot, "data_empty_field")
        assert f"line {EMPTY_LINE}" in screen_text(app)


async def test_enter_on_a_finding_line_asks_the_engine_for_that_row(fake):
    app = data_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await _checked(pilot)
        await _select(pilot, "data_truncated")
        await pilot.press("enter")  # into the finding's lines
        await pilot.press("enter")  # the first: line 4
        await settle(pilot)
        assert fake.calls[-1] == ("broken.toml", (4,))
        await pilot.press("g")
        await pilot.press(*str(LONG_LINE), "enter")
        await settle(pilot)
        assert fake.calls[-1] == ("broken.toml", (LONG_LINE,))
        shown = screen_text(app)
        assert f"line {LONG_LINE} · 81 tokens, 50 trained  ◂ asked for" in shown
        assert "✂ cut at the limit, never seen:  word22 word23" in shown


async def test_the_preview_tells_trained_from_masked_text(fake):
    app = data_app()
    async with app.run_test(size=(120, 60)) as pilot:
        await _checked(pilot)
        assert _underlined(app, "word0 word1 word2 word3 word4<|end|>") is True
        assert _underlined(app, "Explain item 0 briefly.") is False
        assert "«" not in screen_text(app)


async def test_under_no_color_the_trained_text_is_also_marked(fake, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = data_app()
    async with app.run_test(size=(120, 60)) as pilot:
        await _checked(pilot)
        shown = screen_text(app)
        assert "Explain item 0 briefly.«word0 word1 word2 word3 word4<|end|>»" in shown
        assert "as the model reads it: «trained» · masked (no loss)" in shown
        assert _underlined(app, "word0 word1 word2") is True


async def test_a_changed_profile_is_checked_again_on_the_next_visit(fake, profiles):
    app = data_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot)
        await pilot.press("1")
        await pilot.press("6")
        await settle(pilot)
        assert len(fake.calls) == 1  # nothing changed: no new check
        await pilot.press("1")
        text = profiles.read_text(encoding="utf-8")
        profiles.write_text(text.replace("max_seq_length = 64", "max_seq_length = 256"))
        await pilot.press("6")
        await settle(pilot)
        assert fake.calls == [("broken.toml", ()), ("broken.toml", ())]


async def test_leaving_the_place_cancels_the_running_check(fake):
    seen: list[bool] = []

    def hold(cancelled: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 20
        while not cancelled() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(cancelled())

    fake.hold = hold
    app = data_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(fake.calls) == 1)
        assert _screen(pilot).has_class("-checking")
        await pilot.press("1")
        await wait_for(pilot, lambda: seen == [True])
        fake.hold = None
        await pilot.press("6")  # the check was cut short: it runs again
        await _checked(pilot)
        assert len(fake.calls) == 2


async def test_another_profile_picked_is_checked(fake):
    app = data_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _checked(pilot)
        options = app.screen.query_one("#data-profiles", OptionList)
        names = [e.name for e in _screen(pilot).entries]
        options.highlighted = names.index("tiny-demo-cpu")
        await settle(pilot)
        assert fake.calls[-1] == ("tiny-demo-cpu.toml", ())


async def test_without_a_tokenizer_the_place_says_so_and_shows_the_rest(fake, recorded):
    offline = copy.deepcopy(recorded)
    offline.update(token_lengths=None, trainable=None, preview=[{"line": 1, "row": {"a": 1}}])
    offline["tokenizer"] = {"offline": True, "note": "no tokenizer for 'm'; hf download m"}
    fake.report = offline
    app = data_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await _checked(pilot)
        shown = screen_text(app)
        assert "No tokenizer on this machine: no tokenizer for 'm'; hf download m" in shown
        assert "41 rows · 11.3 kB · UTF-8 · jsonl" in shown
        assert "data_malformed_line" in shown


async def test_an_engine_that_cannot_run_is_named_with_what_to_do(fake):
    fake.error = "the data check failed (exit code 2): engines data: cannot read x"
    app = data_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "✗ the data check failed (exit code 2): engines data: cannot read x" in shown
        assert "r: try again" in shown


@pytest.mark.slow
@pytest.mark.usefixtures("offline_engine")
async def test_the_real_engine_end_to_end(profiles):
    app = data_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_for(pilot, lambda: _screen(pilot).report is not None, timeout=240)
        await settle(pilot)
        shown = screen_text(app)
        assert "data_truncated" in shown and "│64" in shown
        await _select(pilot, "data_truncated")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: "◂ asked for" in screen_text(app), timeout=240)
        assert "line 4 · " in screen_text(app)


# -- snapshots ------------------------------------------------------------------------


def test_data_histogram_80x24(snap_compare, fake):
    assert snap_compare(data_app(), terminal_size=(80, 24), run_before=_checked)


def test_data_finding_selected_120x40(snap_compare, fake):
    async def select(pilot: Pilot) -> None:
        await _checked(pilot)
        await _select(pilot, "data_truncated")

    assert snap_compare(data_app(), terminal_size=(120, 40), run_before=select)


def test_data_row_preview_no_color_100x40(snap_compare, fake, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    async def preview(pilot: Pilot) -> None:
        await _checked(pilot)
        await pilot.press("g", *str(LONG_LINE), "enter")
        await settle(pilot)

    assert snap_compare(data_app(), terminal_size=(100, 40), run_before=preview)
