"""The Settings dialog: edit `settings.toml` without leaving the app.

The theme previews as it is chosen; escape puts the old one back. Saving is atomic and
applies at once (refresh rate, runs folder, theme); the start place is for next time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from cockpit.settings import (
    PLACES,
    REFRESH_RANGE,
    Settings,
    runs_dir_problem,
    save_settings,
    set_runs_dir,
    settings_path,
)


def _profile_names() -> list[str]:
    from cockpit.profiles.store import list_profiles

    try:
        return sorted({entry.name for entry in list_profiles()})
    except OSError:
        return []


class SettingsScreen(ModalScreen[Settings | None]):
    """Returns the saved settings, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, current: Settings) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        s = self.current
        profiles = _profile_names()
        if s.default_profile and s.default_profile not in profiles:
            profiles.append(s.default_profile)
        with Vertical(id="settings-box"):
            with Grid(id="settings-grid"):  # compact editors: one row each, fits 80x24
                yield Label("Hardware refresh (s)")
                yield Input(str(s.refresh_s), id="settings-refresh", type="number", compact=True)
                yield Label("Runs folder")
                yield Input(s.runs_dir, placeholder="(default)", id="settings-runs", compact=True)
                yield Label("Default profile")
                yield Select([(p, p) for p in profiles], value=s.default_profile or Select.BLANK,
                             id="settings-profile", allow_blank=True, compact=True)  # fmt: skip
                yield Label("Theme")
                themes = sorted(self.app.available_themes)
                yield Select([(t, t) for t in themes], value=self.app.theme,
                             id="settings-theme", allow_blank=False, compact=True)  # fmt: skip
                yield Label("Start in")
                yield Select([(p.title(), p) for p in PLACES], value=s.start_place,
                             id="settings-place", allow_blank=False, compact=True)  # fmt: skip
            yield Static(f"ctrl+s save to {settings_path()} · escape cancel", id="settings-hint")

    def on_mount(self) -> None:
        self.query_one("#settings-box").border_title = "Settings"
        self._theme_before = self.app.theme

    @on(Select.Changed, "#settings-theme")
    def _preview_theme(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.app.theme = event.value

    def _collected(self) -> Settings | str:
        """The settings in the form, or what is wrong with them."""
        text = self.query_one("#settings-refresh", Input).value.strip()
        low, high = REFRESH_RANGE
        try:
            refresh = float(text)
        except ValueError:
            return f"Hardware refresh must be a number of seconds ({low}–{high}), not {text!r}."
        if not low <= refresh <= high:
            return f"Hardware refresh must be between {low} and {high} seconds."
        runs_dir = self.query_one("#settings-runs", Input).value.strip()
        problem = runs_dir_problem(runs_dir)
        if problem:
            return f"Runs folder: {problem}."
        profile = self.query_one("#settings-profile", Select).value
        return replace(
            self.current,
            refresh_s=refresh,
            runs_dir=runs_dir,
            default_profile=profile if isinstance(profile, str) else "",
            theme=str(self.query_one("#settings-theme", Select).value),
            start_place=str(self.query_one("#settings-place", Select).value),
        )

    def action_save(self) -> None:
        settings = self._collected()
        if isinstance(settings, str):
            self.notify(settings, severity="error", markup=False)
            return
        try:
            path = save_settings(settings)
        except OSError as exc:
            self.notify(f"Cannot save {settings_path()}: {exc.strerror or exc}", severity="error",
                        markup=False)  # fmt: skip
            return
        if settings.runs_dir != self.current.runs_dir:
            set_runs_dir(settings.runs_dir)
        self.notify(f"Saved to {path}", markup=False)
        self.dismiss(settings)

    def action_cancel(self) -> None:
        self.app.theme = self._theme_before
        self.dismiss(None)
