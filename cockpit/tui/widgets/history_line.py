"""Recent values of a percentage on a fixed 0–100 scale, newest sample at the right.

Textual's ``Sparkline`` rescales to the data's own min..max and stretches a few samples
across the whole width, so a steady 90 % looks like a steady 0 % and a single sample draws a
full bar. Here the height of a bar is the value itself and the x axis is time (one or more
cells per sample), which is what a user comparing GPUs or watching memory creep needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from cockpit.tui.widgets.meter import level_style

BARS = " ▁▂▃▄▅▆▇█"
"""Index = eighths of a cell filled."""


def _cell(eighths: int, row_from_bottom: int) -> str:
    """The character for one cell of a bar ``eighths`` tall, on the given row."""
    return BARS[max(0, min(8, eighths - 8 * row_from_bottom))]


def history_rows(
    values: Sequence[float],
    width: int,
    height: int = 1,
    *,
    maximum: float = 100.0,
    capacity: int = 60,
    style: str | None = None,
) -> list[Content]:
    """``height`` lines of bars, top line first, scaled to [0, maximum].

    Each sample is ``width // capacity`` cells wide (at least one), the newest at the right;
    older samples that do not fit are dropped. ``style`` colours every bar; None colours
    each bar by its level (calm, warning, alarm).
    """
    if width <= 0 or height <= 0:
        return [Content("") for _ in range(max(0, height))]
    stretch = max(1, width // max(1, capacity))
    shown = list(values)[-(width // stretch) :] if values else []
    pad = width - len(shown) * stretch
    fractions = [max(0.0, min(1.0, v / maximum)) if maximum > 0 else 0.0 for v in shown]
    eighths = [max(1, round(f * 8 * height)) for f in fractions]  # a sample is never blank
    styles = [style or level_style(f) for f in fractions]
    rows = []
    for row in reversed(range(height)):
        cells = [_cell(e, row) * stretch for e in eighths]
        rows.append(Content.assemble(" " * pad, *_runs(cells, styles)))
    return rows


def _runs(cells: list[str], styles: list[str]) -> list[tuple[str, str]]:
    """Adjacent cells of the same style as one span: far fewer spans to style per frame."""
    runs: list[tuple[str, str]] = []
    for cell, cell_style in zip(cells, styles, strict=True):
        if runs and runs[-1][1] == cell_style:
            runs[-1] = (runs[-1][0] + cell, cell_style)
        else:
            runs.append((cell, cell_style))
    return runs


def history_content(
    values: Sequence[float], width: int, maximum: float = 100.0, style: str | None = None
) -> Content:
    """One line of bars, one cell per value (used for per-core CPU bars)."""
    return history_rows(values, width, maximum=maximum, capacity=width, style=style)[0]


class HistoryLine(Widget):
    """Recent values of one percentage (utilisation, memory, CPU) as block bars.

    Its height comes from CSS; a taller widget gives finer bars.
    """

    DEFAULT_CSS = """
    HistoryLine {
        height: 1;
        width: 1fr;
    }
    """

    values: reactive[tuple[float, ...]] = reactive(())
    """Samples, oldest first."""

    def __init__(
        self,
        maximum: float = 100.0,
        *,
        capacity: int = 60,
        style: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.maximum = maximum
        self.capacity = capacity
        self.style = style

    def render(self) -> Content:
        rows = history_rows(
            self.values,
            self.size.width,
            self.size.height,
            maximum=self.maximum,
            capacity=self.capacity,
            style=self.style,
        )
        return Content("\n").join(rows)
