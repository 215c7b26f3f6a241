"""The app shell: place keys, help, quit, command palette and app-wide sampling."""

from __future__ import annotations

import threading

import pytest

from cockpit.hardware.sampler import HardwareSampler
from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.tui.commands import PlaceActions
from cockpit.tui.places import PLACES
from cockpit.tui.screens.help import HelpScreen
from cockpit.tui.screens.profile_dialogs import UnsavedDialog
from cockpit.tui.screens.prompt import TextPrompt
from tests.ui.cockpit_snapshot_app import FixedHost, SteppedClock, make_app
from tests.ui.conftest import screen_text, settle, wait_for


@pytest.mark.parametrize("place", PLACES, ids=[p.mode for p in PLACES])
async def test_each_place_key_opens_its_place(place):
    app = make_app(start_place="logs" if place.mode == "hardware" else "hardware")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(place.key)
        await settle(pilot)
        assert app.current_mode == place.mode
        top_bar = screen_text(app).splitlines()[0]
        assert f" {place.key} {place.title} " in top_bar


async def test_logs_place_without_any_run_says_how_to_open_a_log():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        text = screen_text(app)
        assert "No log open" in text
        assert "cockpit logs FILE" in text


async def test_help_lists_global_and_place_keys_and_escape_closes_it():
    app = make_app(start_place="doctor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for expected in ("Go to Hardware", "Go to Logs", "Quit", "Re-run", "Copy fix", "^p"):
            assert expected in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.current_mode == "doctor"


async def test_help_on_a_place_without_keys_of_its_own_files_tab_under_navigation():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        navigation = next(i for i, line in enumerate(lines) if "Navigation" in line)
        tab = next(i for i, line in enumerate(lines) if "Focus Next" in line)
        assert tab > navigation
        assert not any("│ Hardware " in line for line in lines)


async def test_place_keys_do_nothing_while_help_is_open():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark", "2")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.current_mode == "hardware"


async def test_q_quits_and_closes_the_sampler():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert app.fixture_sampler.closed


async def test_command_palette_goes_to_a_place():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Go to Doctor")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "doctor"


async def test_history_keeps_growing_while_another_place_is_shown():
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        for _ in range(3):
            app.fixture_clock.now += 1
            app.request_sample()
            await settle(pilot)
        assert len(app.history.cpu()) == 4
        await pilot.press("1")
        await pilot.pause()
        util_line = app.screen.query_one(".util-history")
        assert len(util_line.values) == 4


class _BlockingSampler(HardwareSampler):
    """Counts samples and holds each one until the test releases it."""

    def __init__(self) -> None:
        clock = SteppedClock()
        from tests.ui.cockpit_snapshot_app import NO_NVML, FixedGpuSource

        super().__init__(FixedGpuSource(NO_NVML), FixedHost(clock), wall_clock=clock)
        self.calls = 0
        self.release = threading.Event()

    def sample(self):
        self.calls += 1
        assert self.release.wait(timeout=10), "test never released the sample"
        return super().sample()


async def test_a_tick_is_skipped_while_the_previous_sample_runs():
    sampler = _BlockingSampler()
    app = make_app()
    app.sampler_factory = lambda: sampler
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.request_sample()
        app.request_sample()
        assert "Sampling hardware" in screen_text(app)
        sampler.release.set()
        await settle(pilot)
        assert sampler.calls == 1
        assert "12 GiB / 32 GiB" in screen_text(app)


async def test_help_from_the_command_palette_lists_the_place_keys():
    app = make_app(start_place="doctor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Help: keys")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Re-run" in screen_text(app)


async def test_the_palette_finds_another_places_action_from_anywhere():
    # Seen: "start" from Profiles answered "No matches" (only the current place was listed).
    app = make_app(start_place="profiles")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"start")
        await wait_for(pilot, lambda: "Runs: Start  (s)" in screen_text(app))
        text = screen_text(app)
        assert "Runs: Start anyway  (f)" in text
        assert "No matches" not in text


async def test_every_place_action_is_in_the_palette_and_the_cursor_keys_are_not():
    app = make_app(start_place="logs")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        provider = PlaceActions(app.screen)
        await provider.startup()
        titles = {action.title for action in provider.actions}
        for title in ("Logs: Next finding  (])", "Logs: Copy fix  (c)", "Doctor: Re-run  (r)",
                      "Profiles: Apply fix  (^f/a)", "Profiles: Revert  (^z/u)",
                      "Runs: Start  (s)", "Hardware: Settings  (,)"):  # fmt: skip
            if title.startswith("Hardware"):
                assert title not in titles  # the app's own keys are listed once, by the app
            else:
                assert title in titles, sorted(titles)
        assert not any(": Go to" in t or ": Quit" in t or "Focus Next" in t for t in titles)


async def test_choosing_another_places_action_goes_there_and_runs_it():
    app = make_app(start_place="profiles")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Logs: Open")
        await wait_for(pilot, lambda: "Logs: Open  (o)" in screen_text(app))
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPrompt))
        assert app.current_mode == "logs"
        assert "Open log" in screen_text(app)


async def test_going_elsewhere_from_the_palette_asks_about_unsaved_edits(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    app = make_app(start_place="profiles")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # opens the highlighted profile
        await settle(pilot)
        await pilot.press("x")  # typed into the name: an unsaved edit
        await pilot.press("ctrl+p", *"Go to Doctor")
        await wait_for(pilot, lambda: "Go to Doctor  (2)" in screen_text(app))
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, UnsavedDialog))
        assert app.current_mode == "profiles"
        await pilot.press("d")  # discard
        await wait_for(pilot, lambda: app.current_mode == "doctor")
