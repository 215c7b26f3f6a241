"""What every place shares: the top bar, the footer, and typed access to the app.

A place subclasses :class:`PlaceScreen`, names its mode in ``PLACE`` and yields its own
widgets from :meth:`compose_body`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from cockpit.screens.places import PLACE_BY_MODE, PLACES
from cockpit.widgets.place_bar import PlaceBar

if TYPE_CHECKING:
    from cockpit.app import CockpitApp
    from cockpit.hardware.snapshot import MachineSnapshot


class PlaceScreen(Screen[None]):
    """Base screen of one place (a Textual mode)."""

    PLACE: str = ""
    """Mode name of the place, a key of ``PLACE_BY_MODE``."""

    @property
    def cockpit(self) -> CockpitApp:
        """The app, typed."""
        return cast("CockpitApp", self.app)

    @property
    def place_title(self) -> str:
        return PLACE_BY_MODE[self.PLACE].title

    def compose(self) -> ComposeResult:
        yield PlaceBar(PLACES, self.PLACE)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The place's own widgets, between the top bar and the footer."""
        yield from ()

    def on_mount(self) -> None:
        self.title = f"cockpit · {self.place_title}"
        self.watch(self.cockpit, "snapshot", self._update_badge)

    def _update_badge(self, snapshot: MachineSnapshot | None) -> None:
        simulated = None if snapshot is None else snapshot.nvml.simulated
        self.query_one(PlaceBar).simulated = simulated
