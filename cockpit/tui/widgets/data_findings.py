"""The Data place's findings: a table (errors first), and the selected one in full.

The detail lists the finding's file lines (with the parser's words for malformed ones);
`enter` on a line posts `LineChosen`, and the screen asks the engine for that row's
preview. Everything from the data file is shown through `data_view.shown`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.runs import data_view
from cockpit.runs.data_view import shown

SEVERITY = {
    "error": ("✗", "bold red", "bold $error"),
    "warning": ("!", "yellow", "bold $warning"),
}
"""Glyph, Rich style (table cells) and Content style (the detail) of each severity."""
LINES_LISTED = 100


def _glyph(severity: str) -> tuple[str, str, str]:
    return SEVERITY.get(severity, ("?", "", "bold"))


class DataFindingTable(DataTable):
    """One row per finding: severity, id, how many rows, the first lines."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.findings: list[Mapping[str, Any]] = []

    def on_mount(self) -> None:
        self.border_title = "Findings"
        self.add_column("", key="severity", width=1)
        self.add_column("finding", key="id")
        self.add_column("rows", key="count")
        self.add_column("lines", key="lines")

    def show(self, findings: Sequence[Mapping[str, Any]]) -> None:
        """Replace the rows; the cursor on the first."""
        self.findings = list(findings)
        self.clear()
        for index, item in enumerate(self.findings):
            glyph, style, _ = _glyph(item.get("severity", ""))
            lines = item.get("lines") or []
            self.add_row(
                Text(glyph, style=style),
                Text(shown(item.get("id", ""))),
                Text(str(max(int(item.get("count") or 0), len(lines)) or "")),
                Text(data_view.lines_text(item, 4).removeprefix("lines ").removeprefix("line ")),
                key=str(index),
            )
        self.display = bool(self.findings)
        if self.findings:
            self.move_cursor(row=0, animate=False)

    @property
    def selected(self) -> Mapping[str, Any] | None:
        """The finding under the cursor."""
        if not self.findings or not 0 <= self.cursor_row < len(self.findings):
            return None
        return self.findings[self.cursor_row]


def heading(item: Mapping[str, Any]) -> Content:
    glyph, _, style = _glyph(item.get("severity", ""))
    return Content.assemble(
        (f"{glyph} {str(item.get('severity', '')).upper()}", style),
        "  ",
        (shown(item.get("id", "")), "bold"),
    )


def _line_options(item: Mapping[str, Any]) -> list[Option]:
    notes = {n["line"]: n["note"] for n in item.get("line_notes") or []}
    options = []
    for line in list(item.get("lines") or [])[:LINES_LISTED]:
        label = Content.assemble(("line ", "$text-muted"), (str(line), "bold"))
        if line in notes:
            label = Content.assemble(label, ("  " + shown(notes[line]), "$text-muted"))
        options.append(Option(label, id=str(line)))
    return options


class DataFindingDetail(Vertical):
    """Heading, detail, fix, and the finding's lines to open (enter)."""

    @dataclass
    class LineChosen(Message):
        """`enter` on one of the finding's lines."""

        line: int

    def compose(self) -> ComposeResult:
        yield Static(id="data-finding-heading")
        yield Static(id="data-finding-text", markup=False)
        yield Static(id="data-finding-fix", markup=False)
        yield OptionList(id="data-finding-lines")

    def on_mount(self) -> None:
        self.border_title = "Selected finding"
        self.query_one("#data-finding-fix").border_title = "Fix"

    def show(self, item: Mapping[str, Any] | None) -> None:
        """Show one finding, or hide the panel when None."""
        self.display = item is not None
        if item is None:
            return
        self.query_one("#data-finding-heading", Static).update(heading(item))
        self.query_one("#data-finding-text", Static).update(shown(item.get("detail", "")))
        self.query_one("#data-finding-fix", Static).update(shown(item.get("fix", "")))
        lines = self.query_one("#data-finding-lines", OptionList)
        options = _line_options(item)
        lines.set_options(options)
        lines.display = bool(options)
        more = max(int(item.get("count") or 0), len(item.get("lines") or [])) - len(options)
        title = "Lines  (enter: preview the row)"
        lines.border_title = title + (f" · {more} more not listed" if more > 0 else "")

    @on(OptionList.OptionSelected, "#data-finding-lines")
    def _line_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.LineChosen(int(event.option.id)))
