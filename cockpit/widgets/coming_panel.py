"""An honest placeholder for a place that is not built yet.

It says what the place will do and which command-line twin to use meanwhile; it shows no
fake data.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static


class ComingPanel(Vertical):
    """Title, purpose and the CLI commands to use until the place exists."""

    def __init__(self, title: str, purpose: str, commands: tuple[str, ...]) -> None:
        super().__init__(classes="coming-panel")
        self.title = title
        self.purpose = purpose
        self.commands = commands

    def compose(self) -> ComposeResult:
        yield Static(self.purpose, classes="coming-purpose", markup=False)
        yield Static(
            "Not built yet in the terminal UI. Meanwhile, its command-line twin "
            "(`cockpit --help` lists what your version has):",
            classes="coming-status",
            markup=False,
        )
        yield Static(
            Content("\n").join(Content.styled(f"$ {cmd}", "bold") for cmd in self.commands),
            classes="coming-commands",
        )

    def on_mount(self) -> None:
        self.border_title = f"{self.title} · coming"
