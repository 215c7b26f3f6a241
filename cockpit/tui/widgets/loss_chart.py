"""An area chart of one metric (the loss) over training steps, drawn with block characters.

plotext is not a dependency. Block elements (▁▂▃…█, eighths of a cell) are in every
terminal font, Windows consoles and SVG screenshots included, where braille often is not;
each column is one slice of the run, each row gives eight levels. The y axis is labelled
with the data's max (top) and min (bottom), the x axis with the first and last step.
`chart_rows` is pure, so it is testable without an app.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

BARS = " ▁▂▃▄▅▆▇█"
"""Index = eighths of a cell filled."""

Point = tuple[float, float]


def format_value(value: float) -> str:
    """A short, stable label: 4 significant digits (6.735, 0.0001, 1.2e+04)."""
    return f"{value:.4g}"


def _finite(points: Sequence[Point]) -> list[Point]:
    return [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]


def column_values(points: Sequence[Point], cols: int) -> list[float]:
    """One value per column: the mean of the points that fall in it, else the line
    between its neighbours (fewer points than columns), for points sorted by x."""
    xs = [x for x, _ in points]
    x_min, x_span = xs[0], (xs[-1] - xs[0]) or 1.0
    buckets: list[list[float]] = [[] for _ in range(cols)]
    for x, y in points:
        buckets[min(int((x - x_min) / x_span * cols), cols - 1)].append(y)
    values = []
    for col, bucket in enumerate(buckets):
        if bucket:
            values.append(sum(bucket) / len(bucket))
            continue
        x = x_min + (col + 0.5) / cols * x_span
        right = min(bisect_left(xs, x), len(points) - 1)
        (x0, y0), (x1, y1) = points[max(right - 1, 0)], points[right]
        values.append(y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0))
    return values


def _plot(values: list[float], rows: int, y_range: tuple[float, float]) -> list[str]:
    """``rows`` strings of bars, top row first; the lowest value still shows 1/8 of a cell."""
    y_min, y_max = y_range
    span = (y_max - y_min) or 1.0
    levels = rows * 8
    heights = [1 + round((v - y_min) / span * (levels - 1)) for v in values]
    return [
        "".join(BARS[max(0, min(8, h - 8 * row))] for h in heights) for row in reversed(range(rows))
    ]


def chart_rows(
    points: Sequence[Point], width: int, height: int, *, style: str = "$primary"
) -> list[Content]:
    """``height`` lines: the plot with its y labels, then the x axis (first and last step).

    Non-finite values (a NaN loss) are left out. With no point at all, one muted line says so.
    """
    shown = _finite(points)
    if not shown or width < 8 or height < 2:
        return [Content.styled("no data yet", "$text-muted")]
    ys = [y for _, y in shown]
    y_min, y_max = min(ys), max(ys)
    top, bottom = format_value(y_max), format_value(y_min)
    label_w = max(len(top), len(bottom))
    cols, rows = max(width - label_w - 1, 1), height - 1
    shown.sort()
    if y_min == y_max:  # a flat line: half height, labelled where it is
        plot = _plot(column_values(shown, cols), rows, (y_min - 1, y_max + 1))
        labels = {next(i for i, row in enumerate(plot) if row.strip()): top}
    else:
        plot = _plot(column_values(shown, cols), rows, (y_min, y_max))
        labels = {rows - 1: bottom, 0: top}
    lines = []
    for i, row in enumerate(plot):
        label = labels.get(i, "")
        tick = "┤" if label else "│"
        lines.append(Content.assemble((f"{label:>{label_w}}{tick}", "$text-muted"), (row, style)))
    first = f"step {shown[0][0]:g}"
    last = f"{shown[-1][0]:g}" if shown[-1][0] != shown[0][0] else ""
    gap = max(cols - len(first) - len(last), 1)
    axis = f"{' ' * label_w}└{first}{' ' * gap}{last}"
    lines.append(Content.styled(axis, "$text-muted"))
    return lines


class LossChart(Widget):
    """An area chart of ``points`` ((step, value) pairs), sized by CSS."""

    DEFAULT_CSS = """
    LossChart {
        height: 8;
        width: 1fr;
    }
    """

    points: reactive[tuple[Point, ...]] = reactive(())
    """(step, value) pairs, oldest first."""
    empty: reactive[str] = reactive("waiting for the first step…")
    """Shown while there is no point: what the run is doing (or how it ended) instead."""

    def __init__(
        self,
        *,
        empty: str = "waiting for the first step…",
        style: str = "$primary",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(LossChart.empty, empty)
        self.style = style

    def render(self) -> Content:
        if not _finite(self.points):
            return Content.styled(self.empty, "$text-muted")
        rows = chart_rows(self.points, self.size.width, self.size.height, style=self.style)
        return Content("\n").join(rows)
