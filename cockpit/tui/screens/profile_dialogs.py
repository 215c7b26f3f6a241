"""The Profiles place's small dialogs: confirm, unsaved changes, and a name for a new file.

Each is keyboard-only and says its keys on screen. They return their answer through
``dismiss``; the screen decides what to do with it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

LeaveChoice = Literal["save", "discard", "cancel"]


def _keys(*pairs: tuple[str, str]) -> Content:
    """``y delete · n keep`` with the keys in bold."""
    parts = [Content.assemble((key, "bold $accent"), f" {what}") for key, what in pairs]
    return Content("  ·  ").join(parts)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question: y confirms, n or escape declines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, title: str, question: str, yes: str, no: str = "keep it") -> None:
        super().__init__(classes="profile-dialog")
        self.heading = title
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.question, markup=False)
            yield Static(_keys(("y", self.yes), ("n/escape", self.no)), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(".dialog-box").border_title = self.heading

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class UnsavedDialog(ModalScreen[LeaveChoice]):
    """Unsaved edits: s saves, d discards, escape goes back to editing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "choose('save')", "Save"),
        Binding("d", "choose('discard')", "Discard"),
        Binding("escape,c", "choose('cancel')", "Keep editing"),
    ]

    def __init__(self, name: str, save_as: bool) -> None:
        super().__init__(classes="profile-dialog")
        self.profile_name = name
        self.save_as = save_as

    def compose(self) -> ComposeResult:
        save = "save as a new profile" if self.save_as else "save"
        with Vertical(classes="dialog-box"):
            yield Static(f"{self.profile_name} has changes that are not saved.", markup=False)
            yield Static(
                _keys(("s", save), ("d", "discard them"), ("escape", "keep editing")),
                classes="dialog-keys",
            )

    def on_mount(self) -> None:
        self.query_one(".dialog-box").border_title = "Unsaved changes"

    def action_choose(self, choice: LeaveChoice) -> None:
        self.dismiss(choice)


class NameDialog(ModalScreen[str | None]):
    """Asks a profile name (it becomes the file name); None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, explanation: str, value: str) -> None:
        super().__init__(classes="profile-dialog")
        self.heading = title
        self.explanation = explanation
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Static(self.explanation, markup=False)
            yield Input(value=self.value, placeholder="my-profile", id="name-input")
            yield Static(_keys(("enter", "ok"), ("escape", "cancel")), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one(".dialog-box").border_title = self.heading

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
