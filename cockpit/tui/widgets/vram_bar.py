"""A stacked bar of an estimate's terms against the usable VRAM of the planned card.

Line one is the bar: one colour per term, in the order of a training step; the part
beyond the usable memory is drawn hatched (▒) so "won't fit" shows as overflow, and
free memory as a dim track. Line two brackets the usable memory and names its size.
Plain block characters, so it reads the same over SSH, in tmux and in a screenshot.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

TERM_COLOURS: dict[str, str] = {
    "weights": "#4e79a7",
    "embeddings": "#a0cbe8",
    "adapters": "#f28e2b",
    "gradients": "#ffbe7d",
    "optimizer": "#59a14f",
    "activations": "#b07aa1",
    "lora_dropout": "#d4a6c8",
    "attention_scores": "#9d7660",
    "recompute": "#d7b5a6",
    "logits": "#e15759",
    "generation_cache": "#edc948",
    "reference_model": "#76b7b2",
    "allocator": "#bab0ac",
    "cuda_context": "#79706e",
}
"""A fixed colour per estimator term (Tableau 20), so a term keeps its colour while editing."""
_SPARE = ("#8cd17d", "#ff9d9a", "#86bcb6", "#f1ce63", "#499894")

Segment = tuple[str, float, str]
"""(term name, GiB, colour)."""


def term_colours(names: Sequence[str]) -> dict[str, str]:
    """A colour per term name; names the table does not know get spare colours in turn."""
    unknown = [name for name in names if name not in TERM_COLOURS]
    spare = {name: _SPARE[i % len(_SPARE)] for i, name in enumerate(unknown)}
    return {name: TERM_COLOURS.get(name) or spare[name] for name in names}


def _cells(segments: Sequence[Segment], scale: float, width: int) -> list[str]:
    """The colour of each cell; cumulative rounding keeps the total exact."""
    colours: list[str] = []
    done = 0.0
    for _name, gib, colour in segments:
        done += gib
        end = min(width, round(done / scale * width))
        colours.extend([colour] * max(0, end - len(colours)))
    return colours


def bar_line(segments: Sequence[Segment], usable: float | None, width: int) -> Content:
    """The stacked bar, ``width`` cells wide."""
    total = sum(gib for _, gib, _ in segments)
    scale = max(total, usable or 0.0)
    if width <= 0 or scale <= 0:
        return Content("")
    usable_cells = width if usable is None else round(usable / scale * width)
    filled = _cells(segments, scale, width)
    parts: list[tuple[str, str]] = []
    for index, colour in enumerate(filled):
        parts.append(("█" if index < usable_cells else "▒", colour))
    parts.append(("░" * (width - len(filled)), "$text-muted"))
    return Content.assemble(*parts)


def scale_line(total: float, usable: float | None, width: int) -> Content:
    """``╰──── usable 3.8 GiB ────╯`` under the usable part of the bar."""
    if usable is None or width < 4:
        return Content.styled("no card to compare with", "$text-muted")
    scale = max(total, usable)
    cells = max(2, round(usable / scale * width)) if scale > 0 else width
    label = f" usable {usable:.1f} GiB "
    if len(label) > cells - 2:
        label = f" {usable:.1f} "[: max(0, cells - 2)]
    inner = cells - 2 - len(label)
    left = inner // 2
    line = "╰" + "─" * left + label + "─" * (inner - left) + "╯"
    return Content.styled(line, "$text-muted")


class VramBar(Widget):
    """Two lines: the stacked bar and the usable-memory bracket."""

    DEFAULT_CSS = """
    VramBar {
        height: 2;
        width: 1fr;
    }
    """

    segments: reactive[tuple[Segment, ...]] = reactive(())
    """Terms of the estimate, in step order."""
    usable_gib: reactive[float | None] = reactive(None)
    """Usable memory of the card; None when there is no card."""

    def show(self, segments: Sequence[Segment], usable_gib: float | None) -> None:
        self.segments = tuple(segments)
        self.usable_gib = usable_gib

    def render(self) -> Content:
        width = self.size.width
        total = sum(gib for _, gib, _ in self.segments)
        return Content("\n").join(
            [
                bar_line(self.segments, self.usable_gib, width),
                scale_line(total, self.usable_gib, width),
            ]
        )
