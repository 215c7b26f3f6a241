"""The command palette's place actions: every key of every place, offered from anywhere.

Ctrl+P searches them all, not only the current place's: "start" finds Runs' Start from
Profiles. Choosing an action of another place goes there first (asking about unsaved
edits, as that place's key would) and runs it there; an action the place cannot do right
now says so instead of doing nothing. The lists come from the screens' own BINDINGS, so
they cannot drift from the keys; the screens are imported when the palette opens, in a
thread, so start-up never pays for places not visited yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from cockpit.tui.places import PLACES, Place, screen_class
from cockpit.tui.screens.base import PlaceScreen


@dataclass(frozen=True)
class PlaceAction:
    """One action of one place, as the palette lists it."""

    place: Place
    action: str
    description: str
    keys: str
    """How its keys are shown, e.g. ``u/^z``."""

    @property
    def title(self) -> str:
        return f"{self.place.title}: {self.description}  ({self.keys})"


def _own_bindings(cls: type[Screen]) -> list[Binding]:
    """The bindings cockpit declares on a screen class and its cockpit bases."""
    found: list[Binding] = []
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("cockpit.") and "BINDINGS" in klass.__dict__:
            found += Binding.make_bindings(klass.__dict__["BINDINGS"])
    return found


def place_actions(app: App, place: Place, cls: type[Screen]) -> list[PlaceAction]:
    """A place's actions, one per action with all its keys; the keys that go elsewhere
    (place keys, quit, settings: listed by the app) and escape are left out."""
    app_keys = {b.description for b in Binding.make_bindings(app.BINDINGS)}
    merged: dict[str, tuple[str, list[str]]] = {}
    for binding in _own_bindings(cls):
        if not binding.description or binding.description in app_keys:
            continue
        if binding.key == "escape" or binding.action.startswith(("app.", "screen.")):
            continue
        _, keys = merged.setdefault(binding.action, (binding.description, []))
        shown = binding.key_display or app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return [
        PlaceAction(place, action, description, "/".join(keys))
        for action, (description, keys) in merged.items()
    ]


def leave_then(app: App, then: Callable[[], None]) -> None:
    """Run ``then`` once the current place has let go (unsaved edits saved or dropped)."""
    screen = app.screen
    if isinstance(screen, PlaceScreen):
        screen.leave_then(then)
    else:
        then()


def run_place_action(app: App, item: PlaceAction) -> None:
    """Go to the action's place (if elsewhere) and run the action there."""
    arrive = partial(app.call_later, _arrive_and_run, app, item)
    if getattr(app, "current_mode", None) == item.place.mode:
        arrive()
    else:
        leave_then(app, arrive)


async def _arrive_and_run(app: App, item: PlaceAction) -> None:
    if app.current_mode != item.place.mode:
        await app.switch_mode(item.place.mode)
    screen = app.screen
    if not isinstance(screen, PlaceScreen) or not await app.run_action(item.action, screen):
        app.notify(
            f"{item.description} does nothing in {item.place.title} right now "
            f"(press ? there for what its keys do now)",
            severity="warning",
        )


def _all_classes() -> list[tuple[Place, type[Screen]]]:
    return [(place, screen_class(place)) for place in PLACES]


class PlaceActions(Provider):
    """Palette commands for every place's actions (see the module docstring)."""

    actions: list[PlaceAction]

    async def startup(self) -> None:
        classes = await asyncio.to_thread(_all_classes)
        self.actions = [a for place, cls in classes for a in place_actions(self.app, place, cls)]

    def _help(self, item: PlaceAction) -> str:
        if getattr(self.app, "current_mode", None) == item.place.mode:
            return f"{item.place.title} (here): {item.description.lower()}"
        return f"Goes to {item.place.title} ({item.place.key}), then: {item.description.lower()}"

    def _hits(self) -> Iterable[tuple[PlaceAction, Callable[[], None]]]:
        for item in self.actions:
            yield item, partial(run_place_action, self.app, item)

    async def discover(self) -> Hits:
        for item, run in self._hits():
            yield DiscoveryHit(item.title, run, help=self._help(item))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for item, run in self._hits():
            score = matcher.match(item.title)
            if score > 0:
                yield Hit(score, matcher.highlight(item.title), run, help=self._help(item))
