"""What every place shares: the top bar, the footer, and typed access to the app.

A place subclasses :class:`PlaceScreen`, names its mode in ``PLACE`` and yields its own
widgets from :meth:`compose_body`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from cockpit.tui.places import PLACE_BY_MODE, PLACES
from cockpit.tui.widgets.place_bar import PlaceBar

if TYPE_CHECKING:
    from cockpit.doctor.finding import Finding
    from cockpit.hardware.history import History
    from cockpit.hardware.snapshot import MachineSnapshot
    from cockpit.settings import Settings


class Cockpit(Protocol):
    """What the places use of the app (`CockpitApp` is it): they know this face, not the app
    module, which imports them."""

    snapshot: MachineSnapshot | None
    """The latest machine snapshot (a reactive: places `watch` it); None before the first."""
    history: History
    settings: Settings
    python: str | None
    """The training interpreter the Doctor checks (None: this one)."""
    doctor_runner: Callable[[str | None], list[Finding]]
    follow_log: bool
    log_line: int | None

    def open_log(self, target: str, *, line: int | None = None, follow: bool = False) -> None:
        """Open a log (a path, run dir or run id) in the Logs place."""

    def take_log_target(self) -> str | None:
        """The log the command line asked for, once (None after the first call)."""


class PlaceScreen(Screen[None]):
    """Base screen of one place (a Textual mode)."""

    PLACE: str = ""
    """Mode name of the place, a key of ``PLACE_BY_MODE``."""

    @property
    def cockpit(self) -> Cockpit:
        """The app, as the face places use."""
        return cast("Cockpit", self.app)

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
