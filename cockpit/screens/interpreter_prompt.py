"""A small dialog asking which Python interpreter the doctor should examine.

Training often happens in another environment (conda, a venv, WSL's system Python) than
the one cockpit runs in; this lets the user point the doctor at it without restarting.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class InterpreterPrompt(ModalScreen[str | None]):
    """Returns the typed path (stripped), or None when cancelled with escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static("Path of the Python interpreter to check (enter: run, escape: cancel)")
            yield Input(
                value=self.current or "",
                placeholder="/path/to/venv/bin/python",
                id="prompt-input",
            )

    def on_mount(self) -> None:
        self.query_one("#prompt-box").border_title = "Doctor target"

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
