"""A one-line progress bar for a run: steps done out of the total, with the percentage.

Textual's ProgressBar animates and carries its own ETA; the run's ETA comes from the
watcher (throughput over the last half minute), so this bar only draws the fraction.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

DONE = "━"
LEFT = "─"


def progress_bar(fraction: float | None, width: int, style: str = "$accent") -> Content:
    """``━━━━━━────  40%``; an unknown fraction draws a dim track and "  ?"."""
    label = "   ?" if fraction is None else f"{fraction:4.0%}"
    bar_w = max(width - len(label) - 1, 0)
    if fraction is None:
        return Content.assemble((LEFT * bar_w, "$text-muted"), " ", (label, "$text-muted"))
    done = round(max(0.0, min(1.0, fraction)) * bar_w)
    return Content.assemble(
        (DONE * done, style), (LEFT * (bar_w - done), "$text-muted"), " ", (label, "bold")
    )


class RunProgress(Widget):
    """Steps done / total as a bar filling the widget's width."""

    DEFAULT_CSS = """
    RunProgress {
        height: 1;
        width: 1fr;
    }
    """

    fraction: reactive[float | None] = reactive(None)
    bar_style: reactive[str] = reactive("$accent")

    def render(self) -> Content:
        return progress_bar(self.fraction, self.size.width, self.bar_style)
