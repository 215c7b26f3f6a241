"""The baseline for the place-switch benchmarks: the smallest Textual app with two modes.

``2`` shows the second mode (built on its first visit, as cockpit's places are), ``1`` the
first again: what Textual itself costs to switch screens, with nothing of cockpit in them.
"""

from typing import ClassVar

from textual.app import App
from textual.screen import Screen
from textual.widgets import Footer, Static


class _Place(Screen):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self):
        yield Static(self.text)
        yield Footer()


class MinimalPlaces(App):
    MODES: ClassVar = {
        "first": lambda: _Place("first place ready"),
        "second": lambda: _Place("second place ready"),
    }
    DEFAULT_MODE = "first"
    BINDINGS: ClassVar = [
        ("1", "switch_mode('first')", "First"),
        ("2", "switch_mode('second')", "Second"),
    ]


if __name__ == "__main__":
    MinimalPlaces().run()
