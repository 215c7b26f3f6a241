"""The Logs place: opening, finding navigation, the fix panel, search, follow, bad files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.app import App

from cockpit.tui.screens.logs import LogsScreen
from cockpit.tui.widgets.log_view import LogView
from tests.fixtures.logs import OOM_TEXT, PLANTED_TOKEN, write_failed_run_log
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for


@pytest.fixture
def failed_log(tmp_path) -> tuple[Path, int]:
    path = tmp_path / "output.log"
    return path, write_failed_run_log(path)


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


def _view(app) -> LogView:
    return app.screen.query_one(LogView)


def footer_row(app: App) -> str:
    return screen_text(app).splitlines()[-1]


def shown_keys(app: App) -> list[str]:
    """What the footer should show: each shown key's description (its group's, if any)."""
    names = []
    for active in app.screen.active_bindings.values():
        binding = active.binding
        if binding.show:
            names.append(binding.group.description if binding.group else binding.description)
    return names


async def test_a_log_opens_with_its_finding_counted_and_the_token_redacted(failed_log):
    path, _ = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "1 finding (1 error)" in text, text
        assert "accelerate launch" in text
        assert PLANTED_TOKEN not in text and "hf_…(redacted)" in text
        assert "CUDA out of memory" in text  # the summary names it before any jump


async def test_next_finding_jumps_to_it_and_shows_the_fix_which_c_copies(failed_log, monkeypatch):
    path, oom_line = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    copied: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert _view(app).cursor_line == oom_line - 1
        text = screen_text(app)
        assert f"Line {oom_line}" in text and "(cuda_oom)" in text
        assert "gradient_accumulation_steps" in text  # the fix, beside the log
        assert f"{oom_line} ● {OOM_TEXT}" in text
        await pilot.press("c")
        assert copied and "per_device_train_batch_size = 1" in copied[0]
        await pilot.press("left_square_bracket")  # one finding: wraps onto itself
        await pilot.pause()
        assert _view(app).cursor_line == oom_line - 1


async def test_findings_only_hides_every_other_line(failed_log):
    path, _ = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        text = screen_text(app)
        assert "FINDINGS ONLY" in text
        assert "accelerate launch" not in text and OOM_TEXT in text
        await pilot.press("x")
        await pilot.pause()
        assert "accelerate launch" in screen_text(app)


async def test_search_jumps_to_matches_forward_and_back(failed_log):
    path, _ = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"checkpoint-10", "enter")
        await pilot.pause()
        view = _view(app)
        first = view.cursor_line
        assert first is not None
        assert "checkpoint-10" in view.log_file.line(first)
        await pilot.press("N")
        await pilot.pause()
        assert view.cursor_line == first  # the only match: wraps onto itself, and says so
        assert any(
            "wrapped to the bottom" in note and "the only match" in note for note in _notes(app)
        )
        await pilot.press("slash", *"no such text", "enter")
        await pilot.pause()
        assert view.cursor_line == first
        assert "No 'no such text' in this log." in _notes(app)


def _grad_norm_lines(view: LogView) -> list[int]:
    log = view.log_file
    return [i for i in range(log.line_count) if "grad_norm" in log.line(i)]


async def test_after_enter_n_and_n_search_from_the_log_not_the_box(failed_log):
    """Seen: after /warn⏎ the box kept the keys, so n typed into it."""
    path, _ = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = _view(app)
        matches = _grad_norm_lines(view)
        await pilot.press("slash", *"grad_norm", "enter")
        await pilot.pause()
        assert app.focused is view
        assert view.cursor_line == matches[0]
        await pilot.press("n", "n")
        await pilot.pause()
        assert view.cursor_line == matches[2]
        await pilot.press("N")
        await pilot.pause()
        assert view.cursor_line == matches[1]
        assert app.screen.query_one("#log-search").value == "grad_norm"  # nothing typed
        assert "/grad_norm" in screen_text(app)  # the status line says what n repeats


async def test_search_wraps_around_both_ways_and_says_so(failed_log):
    """Seen: after G, n said "No more 'grad_norm' below line 38" instead of wrapping."""
    path, _ = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        view = _view(app)
        matches = _grad_norm_lines(view)
        await pilot.press("slash", *"grad_norm", "enter", "G", "n")
        await pilot.pause()
        assert view.cursor_line == matches[0]
        assert any("wrapped to the top" in note for note in _notes(app)), _notes(app)
        await pilot.press("N")
        await pilot.pause()
        assert view.cursor_line == matches[-1]
        assert any("wrapped to the bottom" in note for note in _notes(app)), _notes(app)
        assert f"line {matches[-1] + 1}" in _notes(app)[-1]


async def test_follow_shows_appended_lines_and_survives_truncation_and_deletion(tmp_path):
    path = tmp_path / "growing.log"
    path.write_text("step 1\n", encoding="utf-8")
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        with open(path, "a", encoding="utf-8") as out:
            out.write("step 2\nRuntimeError: CUDA error: out of memory\n")
        await wait_for(pilot, lambda: "CUDA error: out of memory" in screen_text(app))
        assert "FOLLOW" in screen_text(app)
        assert _view(app).cursor_line == 2  # follow keeps the newest line selected
        path.write_text("fresh start\n", encoding="utf-8")  # truncated, then rewritten
        await wait_for(pilot, lambda: "fresh start" in screen_text(app))
        assert any("truncated" in note for note in _notes(app))
        path.unlink()
        await wait_for(pilot, lambda: "DELETED" in screen_text(app))
        assert "fresh start" in screen_text(app)  # what was read stays


async def test_rotation_reopens_the_new_file(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("old file line\n" * 5, encoding="utf-8")
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        os.replace(path, tmp_path / "train.log.1")
        path.write_text("new file line\n", encoding="utf-8")
        await wait_for(pilot, lambda: "new file line" in screen_text(app))
        assert any("rotated" in note for note in _notes(app))


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d, "is a directory"),
        (lambda d: d / "missing.log", "no such file"),
        (lambda d: "no-such-run-id", "no run 'no-such-run-id'"),
    ],
    ids=["directory", "missing", "unknown-run"],
)
async def test_opening_something_that_is_not_a_log_says_why(tmp_path, make, expected):
    app = make_app(start_place="logs")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#prompt-input").value = str(make(tmp_path))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LogsScreen)
        assert any(expected in note for note in _notes(app)), _notes(app)
        assert "No log open" in screen_text(app)


@pytest.mark.parametrize(
    "content, shown",
    [
        (b"\x00\x01\x02\xff" * 500 + b"\nPNG\x00\n", "binary"),
        ("训练开始\n损失 2.5\n".encode("gbk"), "训练开始"),
        (b"line one\r\nline two\r\n", "line two"),
        (b"x" * (10 * 1024 * 1024) + b"\nafter the long line\n", "after the long line"),
        (b"", "no known problems"),
        (b"ok \xff\xfe bad utf-8\n", "ok"),
    ],
    ids=["binary", "gbk", "crlf", "10mb-line", "empty", "invalid-utf8"],
)
async def test_odd_files_are_shown_best_effort(tmp_path, content, shown):
    path = tmp_path / "odd.log"
    path.write_bytes(content)
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert shown in text or any(shown in note for note in _notes(app)), text
        await pilot.press("end", "right_square_bracket", "slash", "x", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LogsScreen)


async def test_a_search_term_with_brackets_is_said_back_as_typed(failed_log):
    path, _ = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.query_one("#log-search").value = "[rank0]"
        await pilot.press("slash", "enter")
        await pilot.pause()
        notes = [n for n in app._notifications if "[rank0]" in n.message]
        assert notes and not notes[-1].markup  # shown as typed, not parsed as a style tag


@pytest.mark.parametrize("lines", [3, 400_000], ids=["small", "several-chunks"])
async def test_a_log_without_a_final_newline_finishes_indexing(tmp_path, lines):
    path = tmp_path / "no-newline.log"
    path.write_bytes(b"".join(b"step %d loss 0.5\n" % i for i in range(lines)) + b"the tail")
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "no known problems" in screen_text(app))
        assert "indexing" not in screen_text(app)
        assert f"{lines + 1:,} lines" in screen_text(app)


async def test_at_80x24_the_footer_shows_every_key_of_the_place(failed_log):
    """Seen: at 80x24 the footer was cut after "x Find…"."""
    path, _ = failed_log
    app = make_app(start_place="logs", log_target=str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        row = footer_row(app)
        assert all(name in row for name in shown_keys(app)), (row, shown_keys(app))
        assert "Findings" in row and "Search" in row
