"""The Logs place (not built yet): says what it will do and which CLI to use meanwhile."""

from __future__ import annotations

from textual.app import ComposeResult

from cockpit.screens.base import PlaceScreen
from cockpit.widgets.coming_panel import ComingPanel


class LogsScreen(PlaceScreen):
    """Placeholder for the log viewer with known errors annotated."""

    PLACE = "logs"

    def compose_body(self) -> ComposeResult:
        yield ComingPanel(
            "Logs",
            "Open any training log, tailed live, with known errors (version skew, missing "
            "compiler, CUDA out of memory, WSL2 crashes…) highlighted and their fixes "
            "beside them.",
            ("cockpit explain LOGFILE", "cockpit watch RUN_ID"),
        )
