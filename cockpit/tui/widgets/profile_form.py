"""The profile form: every key of the format, grouped by table as in the file.

It edits a copy of the raw TOML dict and tells its screen after each change; the screen
validates and estimates. Nothing the user typed is dropped: invalid text stays in its
field and in the dict, keys the form does not know stay in the dict (and are listed at
the top with the validator's "did you mean"), and switching LoRA off then on again
restores the [lora] table as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch
from textual.widgets.input import Selection

from cockpit.profiles.fields import ABSENT, FIELD_BY_KEY, FIELDS, get_value, set_value
from cockpit.profiles.validate import Problem
from cockpit.tui.widgets.field_row import FieldRow, problem_text
from engines.profile_schema import SECTIONS

_CHANGES = (Input.Changed, Select.Changed, Switch.Changed)
"""What the editors post when the form itself sets them (not edits: prevented)."""
ROWS_PER_STEP = 2
"""Field rows mounted between two chances for keys and paints (a row: ~10–25 ms here)."""
_TABLE_NOTES: dict[str, str] = {
    "grpo": "used by engine = grpo",
    "hardware": "the card and how much of it to leave free",
    "launch": "where it trains: here, ssh hosts or Slurm",
}


class ProfileForm(VerticalScroll):
    """Fields of one raw profile; posts ``Edited`` after every change the user makes."""

    class Edited(Message):
        """The user changed the raw profile (read it from ``form.raw``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.raw: dict[str, Any] = {}
        """The profile being edited, as TOML would hold it."""
        self._lora_backup: Any = None
        self._lora_shown = True

    def compose(self) -> ComposeResult:
        yield Static("", id="form-problems")
        for table in ("", *SECTIONS):
            yield Vertical(classes="form-group", id=f"group-{table or 'top'}")

    async def mount_fields(self, between: Callable[[], Awaitable[object]]) -> None:
        """Mount the fields a few rows at a time, awaiting ``between`` before each step:
        the screen lets its paints and the keys typed meanwhile through there and paces the
        steps while another place shows. (The whole form at once held keys back ~0.5 s; a
        table at a time, up to ~0.2 s, a step here ~40 ms.)"""
        for table in ("", *SECTIONS):
            widgets: list[Widget] = [self._lora_switch()] if table == "lora" else []
            widgets += [FieldRow(spec) for spec in FIELDS[table]]
            group = self.query_one(f"#group-{table or 'top'}")
            for start in range(0, len(widgets), ROWS_PER_STEP):
                await between()
                await group.mount_all(widgets[start : start + ROWS_PER_STEP])

    def _lora_switch(self) -> Widget:
        return Horizontal(
            Label("use LoRA", classes="field-label"),
            Switch(value=True, animate=False, id="lora-enabled"),
            Static("", id="lora-note"),
            classes="field-line",
            id="lora-line",
        )

    def on_mount(self) -> None:
        for table in ("", *SECTIONS):
            group = self.query_one(f"#group-{table or 'top'}")
            group.border_title = Content(f"[{table}]" if table else "profile")
            group.border_subtitle = _TABLE_NOTES.get(table, "")

    # -- filling ----------------------------------------------------------------------

    def load(self, raw: Mapping[str, Any]) -> None:
        """Show a raw profile (a copy is edited; the caller's dict is never changed)."""
        self.raw = copy.deepcopy(dict(raw))
        self._lora_backup = None
        with self.app.batch_update(), self.prevent(*_CHANGES):
            for row in self.query(FieldRow):
                row.show(get_value(self.raw, row.spec.dotted))
            self._show_lora(self._has_lora())
            self._show_grpo()
        self.scroll_home(animate=False)

    def focus_first(self) -> None:
        """Put the cursor at the end of the first field (the name), its text not selected:
        a key pressed out of habit adds a letter instead of replacing the whole name."""
        editor = self.query_one(FieldRow).editor
        self.screen.set_focus(editor)  # posts Focus now, so the callback below comes after it
        if isinstance(editor, Input):
            end = Selection.cursor(len(editor.value))
            editor.call_later(setattr, editor, "selection", end)

    def apply_edits(self, edits: Mapping[str, Any]) -> None:
        """Set dotted keys (a suggestion's edits) as if the user had typed them."""
        for dotted, value in edits.items():
            if dotted == "lora" and value is None:
                self._set_lora(False)
                continue
            if dotted.startswith("lora.") and not self._has_lora():
                self._set_lora(True)
            set_value(self.raw, dotted, ABSENT if value is None else value)
            if dotted in FIELD_BY_KEY:
                self.query_one(f"#row-{FIELD_BY_KEY[dotted].widget_id}", FieldRow).show(
                    get_value(self.raw, dotted)
                )
        self._show_grpo()
        self.post_message(self.Edited())

    def show_problems(self, problems: list[Problem]) -> None:
        """Each problem under its field; the others (unknown keys, hidden tables) at the top."""
        by_key: dict[str, list[Problem]] = {}
        for problem in problems:
            by_key.setdefault(problem.key, []).append(problem)
        hidden = {"grpo"} if not self.query_one("#group-grpo").display else set()
        if not self._lora_shown:
            hidden.add("lora")
        for row in self.query(FieldRow):
            if row.spec.table not in hidden:
                row.flag(by_key.pop(row.spec.dotted, []))
        rest = [p for key_problems in by_key.values() for p in key_problems]
        box = self.query_one("#form-problems", Static)
        box.display = bool(rest)
        if rest:
            head = Content.styled("Also in this profile:", "bold")
            lines = [Content.assemble(f"{p.key or 'profile'}: ", problem_text([p])) for p in rest]
            box.update(Content("\n").join([head, *lines]))

    def show_notes(self, notes: Mapping[str, str]) -> None:
        """Each field's profile-dependent help (`cockpit.profiles.fields.field_notes`)."""
        for row in self.query(FieldRow):
            row.note(notes.get(row.spec.dotted, ""))

    # -- edits ------------------------------------------------------------------------

    @on(FieldRow.Edited)
    def _field_edited(self, event: FieldRow.Edited) -> None:
        event.stop()
        set_value(self.raw, event.spec.dotted, event.value)
        if event.spec.dotted == "engine":
            self._show_grpo()
        self.post_message(self.Edited())

    @on(Switch.Changed, "#lora-enabled")
    def _lora_toggled(self, event: Switch.Changed) -> None:
        event.stop()
        if event.switch.value == self._lora_shown:
            return
        self._set_lora(event.switch.value)
        self.post_message(self.Edited())

    def _has_lora(self) -> bool:
        return "lora" in self.raw

    def _set_lora(self, on: bool) -> None:
        """Add or remove the [lora] table; a removed table comes back as it was."""
        if on and not self._has_lora():
            self.raw["lora"] = self._lora_backup if self._lora_backup is not None else {}
            self._lora_backup = None
        elif not on and self._has_lora():
            self._lora_backup = self.raw.pop("lora")
        for row in self.query_one("#group-lora").query(FieldRow):
            row.show(get_value(self.raw, row.spec.dotted))
        self._show_lora(on)

    def _show_lora(self, on: bool) -> None:
        self._lora_shown = on
        self.query_one("#lora-enabled", Switch).value = on
        self.query_one("#group-lora").set_class(not on, "-off")
        note = "on: adapters train, the base stays frozen" if on else "off: a full fine-tune"
        self.query_one("#lora-note", Static).update(note)

    def _show_grpo(self) -> None:
        grpo = get_value(self.raw, "engine") == "grpo"
        self.query_one("#group-grpo").display = grpo
