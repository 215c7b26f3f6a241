"""One row of the profile form: the key, an editor that fits its type, and its problem.

Numbers, text and lists get an Input, choices a Select, booleans a Switch. A value the
editor cannot represent is still shown as it is in the file (a Select gains an
"(invalid)" entry, an Input shows the text) and is left in the raw dict until the user
changes it. Programmatic updates never come back as edits: a change event counts only
when the editor's value differs from what the form last put there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from cockpit.profiles.fields import ABSENT, FieldSpec, from_text, to_text
from cockpit.profiles.validate import Problem, show_value


class _Invalid:
    def __repr__(self) -> str:
        return "<invalid choice>"


INVALID: Any = _Invalid()
"""Select value standing for a value in the file that is not one of the choices."""


def problem_text(problems: list[Problem]) -> Content:
    """The problems of one field, one per line: message, then the suggestion if any."""
    lines = []
    for problem in problems:
        style = "$error" if problem.severity == "error" else "$warning"
        hint = f" — {problem.suggestion}" if problem.suggestion else ""
        lines.append(Content.styled(f"↳ {problem.message}{hint}", style))
    return Content("\n").join(lines)


class FieldRow(Vertical):
    """``key  [editor]`` with the field's problem under it (hidden when there is none)."""

    @dataclass
    class Edited(Message):
        """The user changed this field; ``value`` is the raw value (ABSENT: remove the key)."""

        spec: FieldSpec
        value: Any

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(classes="profile-field", id=f"row-{spec.widget_id}")
        self.spec = spec
        self._shown: Any = None
        """The editor's value as the form last set it."""
        self._has_invalid_option = False
        self._problems: list[Problem] = []
        self._note = ""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield Label(self.spec.key, classes="field-label")
            yield self._make_editor()
        yield Static("", classes="field-problem")
        yield Static("", classes="field-note")

    def _make_editor(self) -> Widget:
        spec = self.spec
        if spec.kind == "choice":
            options = [(choice, choice) for choice in spec.choices]
            self._shown = spec.choices[0]  # what it selects on mounting (and says Changed)
            return Select(options, allow_blank=False, compact=True, id=spec.widget_id)
        if spec.kind == "flag":
            return Switch(value=bool(spec.default), animate=False, id=spec.widget_id)
        return Input(placeholder=spec.placeholder, compact=True, id=spec.widget_id)

    @property
    def editor(self) -> Widget:
        return self.query_one(f"#{self.spec.widget_id}")

    def show(self, value: Any) -> None:
        """Put a raw value (ABSENT: the default) into the editor without it counting as an edit."""
        editor = self.editor
        if isinstance(editor, Select):
            self._show_choice(editor, value)
        elif isinstance(editor, Switch):
            shown = value if isinstance(value, bool) else bool(self.spec.default)
            self._shown = shown
            editor.value = shown
        elif isinstance(editor, Input):
            self._shown = to_text(self.spec, value)
            editor.value = self._shown
            editor.cursor_position = len(self._shown)

    def _show_choice(self, select: Select, value: Any) -> None:
        choices = self.spec.choices
        if value is ABSENT:
            value = self.spec.default
        options: list[tuple[str, Any]] = [(choice, choice) for choice in choices]
        if isinstance(value, str) and value in choices:
            shown = value
        else:
            shown = INVALID
            options.append((f"{show_value(value)} (invalid)", INVALID))
        self._shown = shown
        if shown is INVALID or self._has_invalid_option:
            select.set_options(options)
            self._has_invalid_option = shown is INVALID
        select.value = shown

    def flag(self, problems: list[Problem]) -> None:
        """Show this field's problems under it and mark it (nothing when the list is empty)."""
        if problems == self._problems:
            return  # an update re-lays out the form: skip it on every keystroke that can
        self._problems = problems
        errors = any(p.severity == "error" for p in problems)
        self.set_class(errors, "-invalid")
        self.set_class(bool(problems) and not errors, "-warning")
        self.query_one(".field-problem", Static).update(problem_text(problems))

    def note(self, text: str) -> None:
        """A line of help under the field that depends on the whole profile ("" hides it)."""
        if text == self._note:
            return  # an update re-lays out the form: skip it on every keystroke that can
        self._note = text
        line = self.query_one(".field-note", Static)
        line.display = bool(text)
        line.update(text)

    def _changed(self, current: Any) -> None:
        if current == self._shown or current is INVALID:
            return
        self._shown = current
        value = current if self.spec.kind in ("choice", "flag") else from_text(self.spec, current)
        self.post_message(self.Edited(self.spec, value))

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(event.input.value)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._changed(event.select.value)

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        event.stop()
        self._changed(event.switch.value)
