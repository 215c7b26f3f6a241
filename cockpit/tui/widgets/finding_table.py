"""The doctor's checklist: one row per finding, failures first, status glyph coloured."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.content import Content
from textual.widgets import DataTable

from cockpit.doctor.finding import GLYPHS, Finding

STATUS_STYLES: dict[str, str] = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}
"""Rich styles (DataTable cells are Rich text)."""
SUMMARY_STYLES: dict[str, str] = {
    "fail": "bold $error",
    "warn": "bold $warning",
    "ok": "$success",
    "skip": "$text-muted",
}
MAX_TITLE_WIDTH = 32
MIN_DETAIL_WIDTH = 10


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` (the table's short detail)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis when it is longer."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def summary(findings: Sequence[Finding]) -> Content:
    """ "2 fail · 3 warn · 14 ok · 2 skip", each count in its status colour."""
    counts = Counter(finding.status for finding in findings)
    parts = [
        Content.styled(f"{counts[status]} {status}", style)
        for status, style in SUMMARY_STYLES.items()
    ]
    return Content(" · ").join(parts)


def _room(table: DataTable) -> int:
    """Cells available for columns, leaving room for a scrollbar before one appears."""
    return table.size.width - table.styles.scrollbar_size_vertical


class FindingTable(DataTable):
    """Findings in the order given (call with ``ordered(...)``); row keys are finding ids."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.findings: list[Finding] = []
        self._title_width = 0

    def on_mount(self) -> None:
        self.border_title = "Checks"

    def on_resize(self, _event: events.Resize) -> None:
        if self.findings:
            self._fill(self.cursor_row)

    def show(self, findings: Sequence[Finding]) -> None:
        """Replace the rows with ``findings`` and put the cursor on the first."""
        self.findings = list(findings)
        longest = max((len(finding.title) for finding in self.findings), default=5)
        self._title_width = min(MAX_TITLE_WIDTH, longest)
        self._fill(0)

    @property
    def selected(self) -> Finding | None:
        """The finding under the cursor."""
        if not self.findings or not 0 <= self.cursor_row < len(self.findings):
            return None
        return self.findings[self.cursor_row]

    def _fill(self, cursor: int) -> None:
        """Rebuild the rows, the detail cut to the width left over, cursor on ``cursor``."""
        self.clear(columns=True)
        padding = 2 * self.cell_padding
        used = (1 + padding) + (self._title_width + padding) + padding
        detail_width = max(MIN_DETAIL_WIDTH, _room(self) - used)
        self.add_column("", key="status", width=1)
        self.add_column("check", key="title", width=self._title_width)
        self.add_column("detail", key="detail", width=detail_width)
        for finding in self.findings:
            self.add_row(
                Text(GLYPHS[finding.status], style=STATUS_STYLES[finding.status]),
                Text(
                    shorten(finding.title, self._title_width),
                    style="dim" if finding.status == "skip" else "",
                ),
                Text(shorten(first_line(finding.detail), detail_width)),
                key=finding.id,
            )
        if self.findings:
            self.move_cursor(row=min(cursor, len(self.findings) - 1), animate=False)
