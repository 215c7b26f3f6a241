"""The app shell: place keys, help, quit, command palette and app-wide sampling."""

from __future__ import annotations

import threading

import pytest

from cockpit.hardware.sampler import HardwareSampler
from cockpit.tui.places import PLACES
from cockpit.tui.screens.help import HelpScreen
from tests.ui.cockpit_snapshot_app import FixedHost, SteppedClock, make_app
from tests.ui.conftest import screen_text, settle


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


async def test_every_place_action_is_in_the_command_palette(tmp_path):
    from tests.fixtures.logs import write_failed_run_log

    log = tmp_path / "output.log"
    line = write_failed_run_log(log)
    app = make_app(start_place="logs", log_target=str(log))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        for action in ("Next finding  (])", "Copy fix  (c)", "Follow  (f)", "Open  (o)",
                       "Settings  (,)", "Go to Doctor  (2)"):  # fmt: skip
            assert action in titles, sorted(titles)
        assert not any(t.startswith(("Down", "Focus Next")) for t in titles)  # no cursor noise
        titles["Next finding  (])"].callback()
        await settle(pilot)
        assert f"Line {line}" in screen_text(app)
