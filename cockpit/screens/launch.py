"""The Runs place (not built yet): says what it will do and which CLI to use meanwhile."""

from __future__ import annotations

from textual.app import ComposeResult

from cockpit.screens.base import PlaceScreen
from cockpit.widgets.coming_panel import ComingPanel


class RunsScreen(PlaceScreen):
    """Placeholder for launching SFT/GRPO runs and watching them."""

    PLACE = "runs"

    def compose_body(self) -> ComposeResult:
        yield ComingPanel(
            "Runs",
            "Launch SFT or GRPO runs from a profile, then watch loss, progress, ETA and "
            "throughput; stop or resume them. Runs keep going when cockpit or your SSH "
            "session closes.",
            ("cockpit train PROFILE.toml", "cockpit runs"),
        )
