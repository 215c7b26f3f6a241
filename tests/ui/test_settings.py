"""The Settings dialog, a bad settings file at startup, and NO_COLOR."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.paths import CONFIG_DIR_ENV
from cockpit.settings import load_settings
from cockpit.tui.screens.settings import SettingsScreen
from tests.fixtures.logs import write_failed_run_log
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    """A scratch config folder: the tests never read or write the user's settings."""
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    return tmp_path / "config"


async def _open_settings(pilot) -> None:
    await settle(pilot)
    await pilot.press("comma")
    await pilot.pause()


async def test_settings_save_apply_at_once_and_persist(config):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_settings(pilot)
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#settings-refresh").value = "2.5"
        app.screen.query_one("#settings-theme").value = "nord"
        await pilot.pause()
        assert app.theme == "nord"  # previewed while choosing
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
        assert app.refresh_s == 2.5 and app.theme == "nord"
    saved, problems = load_settings(config / "settings.toml")
    assert (saved.refresh_s, saved.theme, problems) == (2.5, "nord", [])


async def test_escape_cancels_and_puts_the_theme_back(config):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        before = app.theme
        await _open_settings(pilot)
        app.screen.query_one("#settings-theme").value = "nord"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == before
    assert not (config / "settings.toml").exists()


async def test_a_bad_refresh_is_refused_with_the_range(config):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open_settings(pilot)
        app.screen.query_one("#settings-refresh").value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert any("between 0.2 and 60.0" in n.message for n in app._notifications)


async def test_problems_in_the_settings_file_are_shown_at_startup():
    app = make_app()
    app._startup_notes.append("settings.toml: refresh_s = 'fast': must be a number")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        notes = [(n.title, n.message) for n in app._notifications]
        assert ("Settings", "settings.toml: refresh_s = 'fast': must be a number") in notes


async def test_no_color_still_tells_errors_apart_by_mark_and_word(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    log = tmp_path / "output.log"
    line = write_failed_run_log(log)
    app = make_app(start_place="logs", log_target=str(log))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.no_color
        text = screen_text(app)
        assert "1 finding (1 error)" in text and f"● line {line}" in text


async def test_a_runs_folder_that_is_a_file_is_refused(config, tmp_path):
    blocker = tmp_path / "passwd"
    blocker.write_text("x")
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await _open_settings(pilot)
        app.screen.query_one("#settings-runs").value = str(blocker)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)  # still open: nothing saved
        notes = [n.message for n in app._notifications]
        assert any(f"{blocker} is a file, not a folder" in n for n in notes), notes
    assert load_settings(config / "settings.toml")[0].runs_dir == ""
