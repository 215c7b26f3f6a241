"""A small dialog asking for one line of text: a path, an interpreter, a run id.

Used where the answer cannot be picked from a list: the Python interpreter the doctor
should examine (training often happens in another environment than cockpit's), or the
log file to open.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option


class TextPrompt(ModalScreen[str | None]):
    """Returns the typed text (stripped), or None when cancelled with escape or left empty."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, question: str, placeholder: str, value: str = "", enter: str = "open"
    ) -> None:
        super().__init__()
        self.enter = enter
        self.prompt_title = title
        self.question = question
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(f"{self.question} (enter: {self.enter}, escape: cancel)")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")

    def on_mount(self) -> None:
        self.query_one("#prompt-box").border_title = self.prompt_title

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePrompt(ModalScreen[str | None]):
    """Pick one of a few labelled values; returns the value, or None with escape."""

    DEFAULT_CSS = """
    ChoicePrompt { align: center middle; }
    ChoicePrompt #prompt-choices { height: auto; max-height: 12; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.prompt_title = title
        self.question = question
        self.choices = choices
        """(label, value) pairs, in the order shown."""

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(f"{self.question} (enter: open, escape: cancel)")
            yield OptionList(
                *(Option(label, id=str(i)) for i, (label, _) in enumerate(self.choices)),
                id="prompt-choices",
            )

    def on_mount(self) -> None:
        self.query_one("#prompt-box").border_title = self.prompt_title
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


def interpreter_prompt(current: str | None) -> TextPrompt:
    """Which Python interpreter the doctor should check."""
    return TextPrompt(
        "Doctor target",
        "Path of the Python interpreter to check",
        "/path/to/venv/bin/python",
        current or "",
        enter="run",
    )
