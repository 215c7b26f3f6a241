"""Switching places stays fast: no place's widgets are styled twice on arrival, and the
Profiles form (hidden until a profile opens) neither delays nor breaks the place.

The timings themselves are benchmarks (tests/bench/test_bench_tui.py); these tests hold
what made them slow: every first visit parsed all the app's CSS again and restyled the
place it left, every visit restyled each widget of the place once more (twice on the
first), and the hidden form's choice fields posted their defaults as edits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from textual.css import stylesheet as stylesheet_module
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widgets import Footer

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.tui.screens import profiles as profiles_screen
from cockpit.tui.stylesheet import CachingStylesheet
from cockpit.tui.widgets.profile_form import ProfileForm
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for


@pytest.fixture(autouse=True)
def _no_user_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))


class _StyleWork:
    """Counts full CSS re-parses and the restyles that cover a whole place."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reparses = 0
        self.batches: list[set[int]] = []
        # the app's stylesheet class (a CachingStylesheet) has a reparse of its own
        reparse, update_nodes = CachingStylesheet.reparse, Stylesheet.update_nodes

        def counted_reparse(sheet: Stylesheet) -> None:
            self.reparses += 1
            reparse(sheet)

        def recorded_update(sheet: Stylesheet, nodes: Iterable[DOMNode], animate=False):
            nodes = list(nodes)
            self.batches.append({id(node) for node in nodes})
            update_nodes(sheet, nodes, animate=animate)

        monkeypatch.setattr(CachingStylesheet, "reparse", counted_reparse)
        monkeypatch.setattr(Stylesheet, "update_nodes", recorded_update)

    def reset(self) -> None:
        self.reparses = 0
        self.batches.clear()

    def whole_restyles(self, screen: DOMNode) -> int:
        """Restyles that took in at least half of ``screen``'s widgets at once."""
        ids = {id(node) for node in screen.walk_children(with_self=True)}
        return sum(len(batch & ids) * 2 >= len(ids) for batch in self.batches)


async def test_starting_parses_each_css_source_once_and_a_theme_change_restyles(monkeypatch):
    parsed: list[object] = []
    parse = stylesheet_module.parse  # what a stylesheet calls for a source not in its cache

    def counted(scope, css, read_from, *args, **kwargs):  # the same source, as a stylesheet
        parsed.append((read_from, scope, kwargs.get("tie_breaker")))  # caches it
        return parse(scope, css, read_from, *args, **kwargs)

    monkeypatch.setattr(stylesheet_module, "parse", counted)
    app = make_app(start_place="hardware")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        twice = sorted({str(at) for at in parsed if parsed.count(at) > 1})
        assert twice == [], f"parsed more than once before the first frame: {twice}"
        bar = app.screen.query_one("PlaceBar")
        before = bar.styles.background
        app.theme = "nord" if app.theme != "nord" else "textual-light"
        await settle(pilot)
        assert bar.styles.background != before, "the new theme's colours were not applied"


async def test_arriving_at_a_place_restyles_no_widget_twice(monkeypatch):
    work = _StyleWork(monkeypatch)
    app = make_app(start_place="hardware")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        hardware = app.screen
        # first visits, then visits again (not the Doctor: its running checks restyle it)
        for key in ("3", "5", "1", "3", "5"):
            work.reset()
            await pilot.press(key)
            await settle(pilot)
            assert work.reparses == 0, f"key {key}: the app's CSS was parsed again"
            assert work.whole_restyles(app.screen) == 0, f"key {key}: the place restyled"
            assert work.whole_restyles(hardware) == 0 or app.screen is hardware


async def test_profiles_form_makes_no_edit_while_mounting():
    app = make_app(start_place="hardware")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        form = app.screen.query_one(ProfileForm)
        assert form.raw == {}, "the hidden form took its choice fields' defaults as edits"
        assert app.screen.assessment is None  # nothing was validated or estimated for it


async def test_the_first_visit_to_profiles_reads_and_judges_the_profiles_once(monkeypatch):
    judged: list[str] = []
    judge = profiles_screen.assess_file

    def counted(loaded, card):
        judged.append(loaded.path.name)
        return judge(loaded, card)

    monkeypatch.setattr(profiles_screen, "assess_file", counted)
    app = make_app(start_place="hardware")  # a simulated GPU: detected before the visit
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert judged, "the list judged nothing"
        assert len(judged) == len(set(judged)), f"judged again: {sorted(judged)}"


async def test_enter_pressed_as_profiles_appears_opens_the_profile():
    app = make_app(start_place="hardware")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3", "enter")  # before the form (mounted after the paint) is in
        await wait_for(pilot, lambda: app.screen.has_class("-open"))
        await settle(pilot)
        assert app.screen.query_one(ProfileForm).raw["name"] == "tiny-demo-cpu"


async def test_switching_between_visited_places_rebuilds_no_footer(monkeypatch):
    rebuilt: list[str] = []
    rebuild = Footer.recompose

    async def counted(footer: Footer) -> None:
        rebuilt.append(type(footer.screen).__name__)
        await rebuild(footer)

    monkeypatch.setattr(Footer, "recompose", counted)
    app = make_app(start_place="hardware")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys_shown = {}
        for key in "1345":  # first visits build each place's footer
            await pilot.press(key)
            await settle(pilot)
            keys_shown[key] = screen_text(app).splitlines()[-1]
        rebuilt.clear()
        for key in "31415":
            await pilot.press(key)
            await settle(pilot)
            assert rebuilt == [], f"key {key}: rebuilt the footer of {rebuilt}"
            assert screen_text(app).splitlines()[-1] == keys_shown[key]
