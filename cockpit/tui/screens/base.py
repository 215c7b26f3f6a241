"""What every place shares: the top bar, the footer, and typed access to the app.

A place subclasses :class:`PlaceScreen`, names its mode in ``PLACE`` and yields its own
widgets from :meth:`compose_body`. The footer is compact so a place's main keys fit in 80
columns; a place with room shows ``,`` (Settings) in it by adding ``SETTINGS_KEY`` to its
bindings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Protocol, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from cockpit.tui.places import PLACE_BY_MODE, PLACES
from cockpit.tui.widgets.place_bar import PlaceBar
from cockpit.tui.widgets.place_footer import PlaceFooter

if TYPE_CHECKING:
    from cockpit.doctor.finding import Finding
    from cockpit.hardware.history import History
    from cockpit.hardware.snapshot import MachineSnapshot
    from cockpit.remote.fleet import Fleet
    from cockpit.settings import Host, Settings


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
    refresh_s: float
    fleet_factory: Callable[[Sequence[Host], float, Callable[[], None]], Fleet]
    """Makes the fleet view's fleet: (hosts, interval, on_change from reader threads)."""

    def open_log(self, target: str, *, line: int | None = None, follow: bool = False) -> None:
        """Open a log (a path, run dir or run id) in the Logs place."""

    def take_log_target(self) -> str | None:
        """The log the command line asked for, once (None after the first call)."""


SETTINGS_KEY = Binding("comma", "settings", "Settings", key_display=",")
"""``,`` shown in a place's footer (the app's own ``,`` works everywhere, unshown)."""


class PlaceScreen(Screen[None]):
    """Base screen of one place (a Textual mode)."""

    PLACE: str = ""
    """Mode name of the place, a key of ``PLACE_BY_MODE``."""

    def __init__(self) -> None:
        super().__init__()
        # Styled as its widgets mount: the whole-app CSS refresh Textual runs for a screen
        # it has not styled yet (every stylesheet parsed again and the place being left
        # restyled, on the first visit and again on the second) has nothing to update.
        # The first place keeps it: that refresh is what styles the app itself.
        with suppress(RuntimeError):  # built outside a running app: nothing to skip
            if self.app.screen_stack:  # another place is showing: not the first
                self._css_update_count = self.app._css_update_count

    @property
    def cockpit(self) -> Cockpit:
        """The app, as the face places use."""
        return cast("Cockpit", self.app)

    @property
    def place_title(self) -> str:
        return PLACE_BY_MODE[self.PLACE].title

    def compose(self) -> ComposeResult:
        self._set_size_classes()
        yield PlaceBar(PLACES, self.PLACE)
        yield from self.compose_body()
        yield PlaceFooter(compact=True)

    def compose_body(self) -> ComposeResult:
        """The place's own widgets, between the top bar and the footer."""
        yield from ()

    @property
    def typing(self) -> bool:
        """True while a text field has the focus: letter keys type there."""
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden (False) lets the app's own unshown `,` take the key (or refuse it under a
        # dialog).
        return not (action == "settings" and (self.typing or self.app.screen is not self))

    async def action_settings(self) -> None:
        """Open the Settings dialog."""
        await self.app.run_action("app.settings")

    def leave_then(self, then: Callable[[], None]) -> None:
        """Run ``then`` (going to another place, quitting); a place holding unsaved work
        overrides this to ask first."""
        then()

    def _set_size_classes(self) -> None:
        """The breakpoint classes (-narrow, -wide…) set before the widgets mount, so the
        first Resize finds them in place instead of restyling every widget of the place."""
        app, size = self.app, self.app.size
        classes: dict[str, bool] = {}
        for own, default, extent in (
            (self.HORIZONTAL_BREAKPOINTS, app.HORIZONTAL_BREAKPOINTS, size.width),
            (self.VERTICAL_BREAKPOINTS, app.VERTICAL_BREAKPOINTS, size.height),
        ):
            breakpoints = (default if own is None else own) or []
            reached = max(((at, name) for at, name in breakpoints if extent >= at), default=None)
            classes.update({name: (at, name) == reached for at, name in breakpoints})
        self.update_classes(classes)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every widget of a place each time it is shown (twice on its first
        # visit). Nothing goes stale while a place is away: class changes restyle at once,
        # hover is cleared on leaving, and a theme or CSS change is caught by the CSS count
        # checked on every switch. Runs before Screen's own handler (subclass first).
        event.refresh_styles = False

    def on_mount(self) -> None:
        self._css_update_count = self.app._css_update_count  # the first place's too
        self.title = f"cockpit · {self.place_title}"
        self.watch(self.cockpit, "snapshot", self._update_badge)

    def _update_badge(self, snapshot: MachineSnapshot | None) -> None:
        simulated = None if snapshot is None else snapshot.nvml.simulated
        self.query_one(PlaceBar).simulated = simulated
