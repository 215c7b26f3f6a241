"""The token-length histogram of the Data place: block columns, the limit marked.

Bins up to the limit are drawn in the primary colour, the marker column in the error
colour, and bins past the limit (rows the trainer cuts) in the warning colour, so the
share of cut rows reads at a glance; the marker is a `│` column, visible without colour.
Drawn again at each width from the report's bins (`cockpit.runs.data_view`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import events
from textual.content import Content
from textual.widgets import Static

from cockpit.runs import data_view

HEIGHT = 5
"""Rows of blocks."""


def chart_content(lengths: Mapping[str, Any], width: int) -> Content:
    """Title, block rows with the marker, the axis and p50/p95/max."""
    chart = data_view.histogram_chart(lengths, max(8, width), HEIGHT)
    name = "max_prompt_length" if lengths.get("of") == "prompt" else "max_seq_length"
    lines = [
        Content.assemble(
            ("Token lengths", "bold"),
            ("  ", ""),
            (data_view.MARKER, "bold $error"),
            (f" {name} = {lengths.get('limit')}", "$text-muted"),
        )
    ]
    for row in chart.rows:
        lines.append(_row(row, chart.marker))
    lines.append(Content.styled(chart.axis, "$text-muted"))
    over = lengths.get("over_limit") or 0
    lines.append(Content.styled(data_view.lengths_line(lengths), "$warning" if over else ""))
    return Content("\n").join(lines)


def _row(row: str, marker: int | None) -> Content:
    if marker is None:
        return Content.styled(row, "$primary")
    return Content.assemble(
        (row[:marker], "$primary"),
        (row[marker], "bold $error"),
        (row[marker + 1 :], "$warning"),
    )


class DataHistogram(Static):
    """The histogram, or why there is none (no tokenizer, no rows)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lengths: Mapping[str, Any] | None = None
        self.note: str = ""

    def show(self, lengths: Mapping[str, Any] | None, note: str = "") -> None:
        """Draw these token lengths; without them, show `note` (may be empty)."""
        self.lengths, self.note = lengths, note
        self.display = bool(lengths or note)
        self._draw()

    def on_resize(self, _event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        if self.lengths:
            self.update(chart_content(self.lengths, self.content_size.width or 60))
        else:
            self.update(Content.styled(self.note, "$warning"))
