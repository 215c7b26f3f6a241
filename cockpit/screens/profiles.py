"""The Profiles place (not built yet): says what it will do and which CLI to use meanwhile."""

from __future__ import annotations

from textual.app import ComposeResult

from cockpit.screens.base import PlaceScreen
from cockpit.widgets.coming_panel import ComingPanel


class ProfilesScreen(PlaceScreen):
    """Placeholder for the profile editor with its live VRAM estimate."""

    PLACE = "profiles"

    def compose_body(self) -> ComposeResult:
        yield ComingPanel(
            "Profiles",
            "Edit TOML training profiles (model, LoRA, batch, sequence length, precision) in "
            "a form, with a live VRAM estimate for your GPU and a verdict: fits, tight, or "
            "will not fit, and what to change.",
            ("cockpit estimate PROFILE.toml",),
        )
