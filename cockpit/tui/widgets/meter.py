"""A one-line labelled bar (VRAM, CPU, RAM, swap, disk) that fits any width.

The bar is drawn with plain block characters so it reads the same over SSH, in tmux and
in a screenshot. An unknown fraction draws an empty, dim track and the text says "n/a".
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

FULL = "█"
EMPTY = "░"


def level_style(fraction: float | None) -> str:
    """The colour of a bar: calm below 70 %, a warning below 90 %, then an alarm."""
    if fraction is None:
        return "$text-muted"
    if fraction < 0.7:
        return "$success"
    if fraction < 0.9:
        return "$warning"
    return "$error"


def bar_content(fraction: float | None, width: int) -> Content:
    """A bar of ``width`` cells filled to ``fraction`` (clamped to [0, 1])."""
    if width <= 0:
        return Content("")
    if fraction is None:
        return Content.styled(EMPTY * width, "$text-muted")
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return Content.assemble(
        (FULL * filled, level_style(fraction)),
        (EMPTY * (width - filled), "$text-muted"),
    )


class Meter(Widget):
    """``label  ███████░░░░░  text`` on one line; the bar takes the space left over."""

    DEFAULT_CSS = """
    Meter {
        height: 1;
        width: 1fr;
    }
    """

    fraction: reactive[float | None] = reactive(None)
    """Filled part of the bar in [0, 1]; None when unknown."""
    text: reactive[str] = reactive("")
    """Numbers shown after the bar, e.g. "2.1 GiB / 4.0 GiB"."""

    def __init__(
        self,
        label: str,
        *,
        label_width: int = 5,
        text_width: int = 22,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label
        self.label_width = label_width
        self.text_width = text_width

    def show(self, fraction: float | None, text: str) -> None:
        """Update the bar and its numbers."""
        self.fraction = fraction
        self.text = text

    def render(self) -> Content:
        width = self.size.width
        label = self.label.ljust(self.label_width)[: self.label_width]
        text = self.text.rjust(self.text_width)
        bar_width = max(0, width - len(label) - len(text) - 2)
        return Content.assemble(
            (label, "bold"),
            " ",
            bar_content(self.fraction, bar_width),
            " ",
            text,
        )
