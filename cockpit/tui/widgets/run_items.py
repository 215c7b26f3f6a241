"""A line of short facts (``step 12/30 · loss 0.41 · ETA 1:02``) that wraps between facts only.

Textual wraps text at any space, which splits "30.50 steps/s" into "30.50" and "steps/s" on
two lines; here each fact stays whole and a narrow terminal gets one more line instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

SEPARATOR = Content.styled("  ·  ", "$text-muted")


def pack(items: Sequence[Content], width: int) -> list[Content]:
    """Items on as few lines of ``width`` cells as fit, separated by `SEPARATOR`."""
    lines: list[list[Content]] = []
    used = 0
    for item in items:
        if lines and used + len(SEPARATOR) + len(item) <= width:
            lines[-1] += [SEPARATOR, item]
            used += len(SEPARATOR) + len(item)
        else:
            lines.append([item])
            used = len(item)
    return [Content.assemble(*line) for line in lines]


class ItemLine(Widget):
    """Facts laid out on one or more lines; an item too long for the width is cut."""

    DEFAULT_CSS = """
    ItemLine {
        height: auto;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    items: reactive[tuple[Content, ...]] = reactive(())

    def watch_items(self, old: tuple[Content, ...], new: tuple[Content, ...]) -> None:
        # Re-layout only when the facts take another number of lines (4 updates a second).
        width = self.size.width
        self.refresh(layout=len(pack(old, width)) != len(pack(new, width)))

    def render(self) -> Content:
        return Content("\n").join(pack(self.items, self.size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(len(pack(self.items, width)), 1)
