"""The smaller curves of a run, one line each: learning rate, grad norm, eval loss and, for
GRPO, the reward (total and per function), completion length and KL.

Each line is ``name  ▁▂▄▆█▆▄  latest``: a sparkline scaled to the metric's own min..max
(their shape matters, not their scale) and the latest value in numbers. A metric the engine
never reported has no line, so an SFT run does not show empty reward rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from cockpit.runs.watcher import StepPoint
from cockpit.tui.widgets.loss_chart import format_value

SPARKS = "▁▂▃▄▅▆▇█"
_NAME_W = 13
_VALUE_W = 10


def sparkline(values: Sequence[float], width: int) -> str:
    """``width`` bars over ``values``, evenly sampled (or stretched when there are fewer), so
    every line spans the run from its first step to its last, like the loss chart."""
    if width <= 0 or not values:
        return ""
    stride = (len(values) - 1) / max(width - 1, 1)
    values = [values[round(i * stride)] for i in range(width)]
    low, high = min(values), max(values)
    if high == low:
        return SPARKS[3] * len(values)
    top = len(SPARKS) - 1
    return "".join(SPARKS[round((v - low) / (high - low) * top)] for v in values)


@dataclass(frozen=True)
class Metric:
    """One line: a name and its values, oldest first."""

    name: str
    values: tuple[float, ...]
    unit: str = ""


def _series(points: Sequence[StepPoint], pick: Callable[[StepPoint], float | None]):
    return tuple(v for v in (pick(p) for p in points) if v is not None)


def step_metrics(points: Sequence[StepPoint]) -> list[Metric]:
    """The metrics the engine reported in these steps, in a fixed order."""
    metrics = [
        Metric("lr", _series(points, lambda p: p.lr)),
        Metric("grad norm", _series(points, lambda p: p.grad_norm)),
        Metric("reward", _series(points, lambda p: p.reward)),
    ]
    names = dict.fromkeys(name for p in points for name, _ in p.rewards)
    for name in names:
        values = _series(points, lambda p, n=name: dict(p.rewards).get(n))
        metrics.append(Metric(f" {name}", values))
    metrics += [
        Metric("completion", _series(points, lambda p: p.completion_length), " tok"),
        Metric("KL", _series(points, lambda p: p.kl)),
    ]
    return [m for m in metrics if m.values]


def eval_metric(evals: Sequence[dict]) -> Metric | None:
    """The eval loss over the run's eval events, when there are any."""
    values = tuple(
        float(e["eval_loss"])
        for e in evals
        if isinstance(e.get("eval_loss"), (int, float)) and not isinstance(e["eval_loss"], bool)
    )
    return Metric("eval loss", values) if values else None


def metric_line(metric: Metric, width: int) -> Content:
    """``name  sparkline  latest`` fitted to ``width``."""
    value = f"{format_value(metric.values[-1])}{metric.unit}"
    spark_w = max(width - _NAME_W - _VALUE_W - 2, 0)
    return Content.assemble(
        (metric.name.ljust(_NAME_W)[:_NAME_W], "$text-muted"),
        " ",
        (sparkline(metric.values, spark_w).ljust(spark_w), "$secondary"),
        " ",
        (value.rjust(_VALUE_W), "bold"),
    )


class RunMetrics(Widget):
    """The run's small curves, one line per reported metric."""

    DEFAULT_CSS = """
    RunMetrics {
        height: auto;
        width: 1fr;
    }
    """

    metrics: reactive[tuple[Metric, ...]] = reactive(())

    def watch_metrics(self, old: tuple[Metric, ...], new: tuple[Metric, ...]) -> None:
        self.refresh(layout=len(old) != len(new))  # a line more or less

    def show(self, points: Sequence[StepPoint], evals: Sequence[dict] = ()) -> None:
        """Show the metrics found in ``points`` (and the eval loss in ``evals``)."""
        found = step_metrics(points)
        evaluated = eval_metric(evals)
        self.metrics = (*found, *([evaluated] if evaluated else []))

    def render(self) -> Content:
        if not self.metrics:
            return Content.styled("lr and grad norm appear with the first step", "$text-muted")
        width = self.size.width
        return Content("\n").join(metric_line(m, width) for m in self.metrics)
