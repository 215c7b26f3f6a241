"""Runs side by side (`v` in Runs, on two or more runs marked with space): their curves
overlaid in one chart (loss, eval loss or GRPO reward, against step or tokens trained), and
the profile keys that differ between them.

Each run has its own marker as well as its own colour, so the curves stay apart under
NO_COLOR. The data is cockpit.runs.compare's, as `cockpit runs --compare --json` prints it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from cockpit.runs.compare import Comparison

MARKERS = ("•", "x", "+", "o", "*", "#", "@", "%")
"""One per run, in order: told apart without colour."""
COLORS = ("cyan", "orange", "green", "magenta", "yellow", "blue", "red", "white")
TITLES = {"loss": "training loss", "eval_loss": "eval loss", "reward": "GRPO reward"}
SHORT = {"loss": "loss", "eval_loss": "eval", "reward": "reward"}
VALUE_CELLS = 22


class CompareScreen(Screen[None]):
    """Two or more runs' curves and differing profile keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "next_curve", "Curve"),
        Binding("x", "toggle_x", "Step/tokens"),
    ]

    def __init__(self, comparison: Comparison) -> None:
        super().__init__()
        self.comparison = comparison
        self.curve = (comparison.curves or ["loss"])[0]
        self.x = "step"

    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="compare-chart")
        with VerticalScroll(id="compare-details"):
            yield Static(self._runs_text(), id="compare-runs")
            yield Static(self._keys_text(), id="compare-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#compare-details").border_title = "Runs and what differs"
        self._draw()

    def action_next_curve(self) -> None:
        """Show the next curve the runs have (loss, eval loss, reward)."""
        curves = self.comparison.curves
        if len(curves) > 1:
            self.curve = curves[(curves.index(self.curve) + 1) % len(curves)]
            self._draw()

    def action_toggle_x(self) -> None:
        """Against step, or against tokens trained (when every run recorded them)."""
        if not self.comparison.has_tokens:
            self.notify("These runs did not all record their tokens (older runs)", timeout=4)
            return
        self.x = "tokens" if self.x == "step" else "step"
        self._draw()

    def _draw(self) -> None:
        chart = self.query_one(PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        drawn = 0
        for index, run in enumerate(self.comparison.runs):
            xs, ys = run.series(self.curve, self.x)
            if not xs:
                continue
            plt.plot(xs, ys, label=f"[{index + 1}]", marker=MARKERS[index % len(MARKERS)],
                     color=COLORS[index % len(COLORS)])  # fmt: skip
            drawn += 1
        title = TITLES.get(self.curve, self.curve)
        plt.title(f"{title} against {'tokens trained' if self.x == 'tokens' else 'step'}")
        plt.xlabel(self.x)
        if not drawn:
            plt.title(f"No run here has a {title} curve")
        chart.refresh()

    def _runs_text(self) -> Content:
        lines = []
        for index, run in enumerate(self.comparison.runs):
            marker = MARKERS[index % len(MARKERS)]
            facts = [run.status]
            for curve in self.comparison.curves:
                last, best = run.last(curve), run.best(curve)
                if last is not None and best is not None:
                    facts.append(f"{SHORT[curve]} {last:.4f} (best {best:.4f})")
            lines.append(Content.assemble(
                (f"[{index + 1}] {marker} ", f"bold {COLORS[index % len(COLORS)]}"),
                (run.id, "bold"), ("  " + " · ".join(facts), "$text-muted"),
            ))  # fmt: skip
        return Content("\n").join(lines)

    def _keys_text(self) -> Content:
        differing = self.comparison.differing
        if not differing:
            return Content.styled("\nTheir profiles are the same.", "$text-muted")
        width = max(len(key) for key in differing)
        lines = [Content.styled("\nProfile keys that differ", "bold")]
        for key, values in differing.items():
            cells = "".join(_cell(value).ljust(VALUE_CELLS) for value in values)
            lines.append(Content.assemble((f"{key:<{width}}  ", "$text-muted"), cells.rstrip()))
        return Content("\n").join(lines)


def _cell(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) < VALUE_CELLS - 1 else text[: VALUE_CELLS - 3] + "…"
