"""CockpitApp: the five places as Textual modes, global keys, and app-wide sampling.

Hardware is sampled here rather than in the Hardware place so its history keeps
accumulating while the user is elsewhere. Sampling runs in a thread worker; the UI only
ever sees the frozen snapshots it posts back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from cockpit.hardware.history import History
from cockpit.hardware.snapshot import MachineSnapshot
from cockpit.settings import Settings
from cockpit.termsafe import escapes
from cockpit.tui.commands import PlaceActions, leave_then
from cockpit.tui.messages import HardwareSampled
from cockpit.tui.places import PLACE_BY_MODE, PLACES, Place, screen_class
from cockpit.tui.stylesheet import CachingStylesheet

if TYPE_CHECKING:
    from cockpit.doctor.finding import Finding
    from cockpit.hardware.sampler import HardwareSampler
    from cockpit.remote.fleet import Fleet
    from cockpit.settings import Host

DoctorRunner = Callable[[str | None], "list[Finding]"]
FleetFactory = Callable[["Sequence[Host]", float, Callable[[], None]], "Fleet"]
"""Makes the fleet of the Hardware place's fleet view: (hosts, interval, on_change)."""

_LETTER_ACTIONS = frozenset({"switch_place", "help", "settings", "quit_key"})
"""App actions bound to keys that a text field takes as typing."""

CLOSE_WAIT_S = 2.0
"""How long quitting waits for a sample in flight before closing the sampler anyway."""


def _lazy_screen(place: Place) -> Callable[[], Screen]:
    """A mode factory importing its screen on first visit: only the first place a user
    sees is paid for before the first frame."""

    def factory() -> Screen:
        return screen_class(place)()

    return factory


def _escape_in_textual() -> None:
    """Make every text the TUI draws show its control characters escaped (`cockpit.termsafe`).

    Textual (its `Content`) and Rich (its `Text`) drop only BEL, BS, VT, FF and CR from the
    text they are given and pass ESC and C1 to the terminal, so a run id, a process name or
    an output line could set the window title or the clipboard. Both drop those characters
    through one module-level translate table; adding the escapes to those tables (the
    characters they already drop stay dropped) covers every widget at once.
    """
    from rich import control
    from textual import content

    for table in (content._CONTROL_STRIP_TRANSLATE, control._CONTROL_STRIP_TRANSLATE):
        table.update({code: shown for code, shown in escapes().items() if code not in table})


def _run_doctor(python: str | None) -> list[Finding]:
    """The real doctor, imported only when the Doctor place first needs it."""
    from cockpit.doctor.profile_models import profile_models
    from cockpit.doctor.runner import run_doctor

    return run_doctor(python, models=profile_models())


def _ssh_fleet(hosts: Sequence[Host], interval: float, on_change: Callable[[], None]) -> Fleet:
    """The real fleet (ssh to each host), imported when the fleet view is first shown."""
    from cockpit.remote.fleet import Fleet

    return Fleet(hosts, interval, on_change=on_change)


class CockpitApp(App[None]):
    """The cockpit TUI."""

    CSS_PATH = "app.tcss"
    TITLE = "cockpit"
    MODES: ClassVar[dict[str, str | Callable[[], Screen]]] = {
        place.mode: _lazy_screen(place) for place in PLACES
    }
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {
        *App.COMMANDS,
        PlaceActions,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(p.key, f"switch_place('{p.mode}')", f"Go to {p.title}", show=False)
            for p in PLACES
        ),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("comma", "settings", "Settings", key_display=",", show=False),
        Binding("q", "quit_key", "Quit"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True),
    ]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (120, "-wide")]

    snapshot: reactive[MachineSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The latest machine snapshot; None until the first sample arrives."""

    def __init__(
        self,
        *,
        sampler_factory: Callable[[], HardwareSampler],
        doctor_runner: DoctorRunner | None = None,
        refresh_s: float = 1.0,
        python: str | None = None,
        start_place: str = "hardware",
        log_target: str | None = None,
        follow_log: bool = False,
        settings: Settings | None = None,
        startup_notes: Sequence[str] = (),
        fleet_factory: FleetFactory | None = None,
    ) -> None:
        if start_place not in PLACE_BY_MODE:
            raise ValueError(f"unknown place {start_place!r}; one of {', '.join(PLACE_BY_MODE)}")
        # The start place is the app's first mode, so startup builds it once instead of a
        # blank default screen plus a mode switch (each restyling the whole app).
        self.DEFAULT_MODE = start_place
        _escape_in_textual()  # run ids, process names, output lines: never raw ESC or C1
        super().__init__()
        self.stylesheet = CachingStylesheet(variables=self.get_css_variables())
        self.sampler_factory = sampler_factory
        self.doctor_runner: DoctorRunner = doctor_runner or _run_doctor
        self.refresh_s = refresh_s
        self.python = python
        self.start_place = start_place
        self.history = History(size=60)
        self._sampler: HardwareSampler | None = None
        self._sampler_lock = threading.Lock()
        self._sample_worker: Worker[MachineSnapshot] | None = None
        self._last_sample_error: str | None = None
        self._log_target = log_target
        self.follow_log = follow_log
        self.log_line: int | None = None
        self.settings = settings or Settings()
        self._startup_notes = list(startup_notes)
        self.fleet_factory: FleetFactory = fleet_factory or _ssh_fleet

    def on_mount(self) -> None:
        if self.settings.theme != self.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self._startup_notes.append(
                    f"Unknown theme {self.settings.theme!r} in the settings; choose one in "
                    "Settings (ctrl+p → Settings)."
                )
        for note in self._startup_notes:
            self.notify(note, title="Settings", severity="warning", timeout=15, markup=False)
        # Sample after the first frame: opening NVML/psutil in the worker thread would
        # otherwise compete for the GIL with the first paint.
        self.call_after_refresh(self.request_sample)
        self._tick = self.set_interval(self.refresh_s, self.request_sample, name="hardware-tick")

    def request_sample(self) -> None:
        """Start a sample unless the previous one is still running (then skip this tick)."""
        worker = self._sample_worker
        if worker is not None and not worker.is_finished:
            return
        self._sample_worker = self._sample()

    @work(
        thread=True,
        group="hardware",
        name="hardware-sample",
        description="Sample GPUs and host",
        exit_on_error=False,
    )
    def _sample(self) -> MachineSnapshot:
        with self._sampler_lock:
            if self._sampler is None:
                self._sampler = self.sampler_factory()
            snapshot = self._sampler.sample()
        self.post_message(HardwareSampled(snapshot))
        return snapshot

    def on_hardware_sampled(self, message: HardwareSampled) -> None:
        self.history.add(message.snapshot)
        self.snapshot = message.snapshot

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The sampler never raises by contract; opening it can, and must not pass silently.
        worker = event.worker
        if worker.group == "hardware" and event.state == WorkerState.ERROR:
            message = f"Hardware sampling failed: {worker.error}"
            if message != self._last_sample_error:
                self._last_sample_error = message
                self.notify(message, severity="error", timeout=10)

    def on_unmount(self) -> None:
        if self._sampler_lock.acquire(timeout=CLOSE_WAIT_S):
            try:
                if self._sampler is not None:
                    self._sampler.close()
                    self._sampler = None
            finally:
                self._sampler_lock.release()

    def action_switch_place(self, mode: str) -> None:
        """Show the place whose Textual mode is ``mode``."""
        self.switch_mode(mode)

    def open_log(self, target: str, *, line: int | None = None, follow: bool = False) -> None:
        """Show the log `target` (a path, a run directory or a run id) in the Logs place,
        at 1-based `line`, or following its end."""
        self._log_target = target
        self.log_line = line
        self.follow_log = follow
        if self.current_mode == "logs":
            from cockpit.tui.screens.logs import LogsScreen

            if isinstance(self.screen, LogsScreen):
                self.screen.open_requested()
        else:
            self.switch_mode("logs")

    def take_log_target(self) -> str | None:
        """The log the Logs place was asked to open, once."""
        target, self._log_target = self._log_target, None
        return target

    def action_settings(self) -> None:
        """Open the Settings dialog."""
        from cockpit.tui.screens.settings import SettingsScreen

        self.push_screen(SettingsScreen(self.settings), self._settings_saved)

    def _settings_saved(self, settings: Settings | None) -> None:
        if settings is None:
            return
        self.settings = settings
        if settings.refresh_s != self.refresh_s:
            self.refresh_s = settings.refresh_s
            self._tick.stop()
            self._tick = self.set_interval(
                self.refresh_s, self.request_sample, name="hardware-tick"
            )

    def action_help(self) -> None:
        """Open the help dialog for the current place."""
        from cockpit.tui.screens.help import HelpScreen, collect_help

        place = PLACE_BY_MODE[self.current_mode].title
        self.push_screen(HelpScreen(place, collect_help(self, self.screen, place)))

    def action_quit_key(self) -> None:
        """q: quit (ctrl+q quits too, even from a text field)."""
        self.exit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Place keys, help and settings do nothing while a dialog is open on top of a
        # place; in a text field they and q type, so the footer does not offer them.
        if action not in _LETTER_ACTIONS:
            return True
        typing = isinstance(self.screen.focused, Input)
        if action == "quit_key":
            return not typing
        return not (typing or isinstance(self.screen, ModalScreen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for place in PLACES:
            yield SystemCommand(
                f"Go to {place.title}  ({place.key})",
                place.purpose,
                partial(leave_then, self, partial(self.switch_mode, place.mode)),
            )
        yield SystemCommand("Help: keys", "List every key of this place", self.action_help)
        yield SystemCommand(
            "Settings  (,)",
            "Refresh rate, runs folder, default profile, theme, start place",
            self.action_settings,
        )
        yield from super().get_system_commands(screen)
