"""The live view of one run: progress and ETA, the loss chart, the smaller curves, memory
against the estimate, why it ended (and what to do next), and the last lines of output.

The view owns the watching. A 4 Hz timer starts a short thread worker that polls the
run's `RunFeed` (a tick is skipped while the previous poll runs), and the worker posts one
`Progressed` message only when something visible changed. However fast the engine logs,
the UI handles at most four small messages a second, each carrying the latest step and the
coalesced history; a message still queued is replaced by a newer one for the same run.
Ended runs are polled once a second, so a resume from another cockpit still shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from cockpit.hardware.snapshot import largest_gpu_gib
from cockpit.runs.endings import can_resume
from cockpit.runs.feed import FeedUpdate, RunFeed
from cockpit.tui.widgets.loss_chart import LossChart
from cockpit.tui.widgets.run_items import ItemLine
from cockpit.tui.widgets.run_metrics import RunMetrics
from cockpit.tui.widgets.run_progress import RunProgress
from cockpit.tui.widgets.run_text import (
    cause_content,
    chart_note,
    head_content,
    memory_items,
    numbers_items,
    progress_fraction,
    tail_content,
)

if TYPE_CHECKING:
    from cockpit.hardware.snapshot import MachineSnapshot

POLL_S = 0.25
IDLE_EVERY = 4
"""An ended run is polled on every 4th tick only."""
BAR_STYLES = {
    "finished": "$success",
    "failed": "$error",
    "crashed": "$error",
    "stopped": "$warning",
}


def _update(static: Static, content: Content) -> None:
    """Update only on change, and re-layout only when the number of lines changes: four
    updates a second must not re-layout the whole view each time."""
    old = static.content
    if old == content:
        return
    old_lines = old.plain.count("\n") if isinstance(old, Content) else -1
    static.update(content, layout=old_lines != content.plain.count("\n"))


class RunView(VerticalScroll):
    """Everything about the open run, updated live."""

    @dataclass
    class Progressed(Message):
        """The open run changed (posted by the poll worker; bubbles to the screen)."""

        feed: FeedUpdate

        def can_replace(self, message: Message) -> bool:
            same_kind = isinstance(message, RunView.Progressed)
            return same_kind and message.feed.run_id == self.feed.run_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.feed: RunFeed | None = None
        self.latest: FeedUpdate | None = None
        """The last update shown."""
        self.received = 0
        """Updates shown since the app started (the coalescing is measured on it)."""
        self._worker: Worker[None] | None = None
        self._tick = 0
        self._poll_error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="run-head")
        yield Static(id="run-cause")
        yield Static(id="run-signal")
        yield RunProgress(id="run-bar")
        yield ItemLine(id="run-numbers")
        yield LossChart(id="run-chart")
        yield RunMetrics(id="run-metrics")
        yield ItemLine(id="run-memory")
        yield Static(id="run-output")

    def on_mount(self) -> None:
        self.query_one("#run-chart").border_title = "loss"
        self.query_one("#run-output").border_title = "output.log"
        self.set_interval(POLL_S, self.request_poll, name="run-watch")
        self.watch(self.app, "snapshot", self._snapshot_changed, init=False)

    @property
    def run_id(self) -> str | None:
        """Id of the open run."""
        return None if self.feed is None else self.feed.run_id

    def open_run(self, run_dir: Path) -> None:
        """Show this run (reading its events from the start); a no-op if it is open."""
        if self.feed is not None and self.feed.run.path == run_dir:
            return
        self.feed = RunFeed(run_dir, largest_gpu_gib(self._snapshot()))
        self.latest = None
        self.query_one("#run-head", Static).update(
            Content.assemble((run_dir.name, "bold"), ("  reading…", "$text-muted"))
        )
        chart = self.query_one(LossChart)
        chart.points = ()
        chart.empty = "reading…"
        self.request_poll(now=True)

    def request_poll(self, now: bool = False) -> None:
        """Poll the open run unless the previous poll still runs (ended runs: 1 tick in 4)."""
        feed = self.feed
        if feed is None or (self._worker is not None and not self._worker.is_finished):
            return
        self._tick += 1
        if not now and not feed.active and self._tick % IDLE_EVERY:
            return
        self._worker = self._poll(feed)

    @work(
        thread=True,
        group="run-watch",
        name="run-watch",
        description="Poll the open run",
        exit_on_error=False,
    )
    def _poll(self, feed: RunFeed) -> None:
        news = feed.poll()
        if news is not None:
            self.post_message(self.Progressed(news))

    def on_run_view_progressed(self, message: Progressed) -> None:
        if message.feed.run_id == self.run_id:
            self.received += 1
            self.show(message.feed)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "run-watch" or event.state != WorkerState.ERROR:
            return
        error = f"Watching the run failed: {event.worker.error}"
        if error != self._poll_error:  # once, not four times a second
            self._poll_error = error
            self.notify(error, severity="error", timeout=10, markup=False)

    def show(self, news: FeedUpdate) -> None:
        """Bring every part of the view up to date with ``news``."""
        self.latest = news
        update = news.update
        summary = update.summary
        _update(self.query_one("#run-head", Static), head_content(summary))
        cause = cause_content(summary, not summary.active and can_resume(summary))
        cause_box = self.query_one("#run-cause", Static)
        if cause_box.display != (cause is not None):
            cause_box.display = cause is not None
        _update(cause_box, cause or Content(""))
        signal = self.query_one("#run-signal", Static)
        if signal.display != bool(update.no_signal):
            signal.display = bool(update.no_signal)
        warning = f"▲ {update.no_signal} (g: the samples, what to change)"
        _update(signal, Content.styled(warning, "$warning") if update.no_signal else Content(""))
        bar = self.query_one(RunProgress)
        bar.fraction = progress_fraction(summary)
        bar.bar_style = BAR_STYLES.get(summary.status, "$accent")
        self.query_one("#run-numbers", ItemLine).items = numbers_items(update)
        chart = self.query_one(LossChart)
        chart.points = tuple((p.step, p.loss) for p in update.history if p.loss is not None)
        chart.empty = chart_note(summary)
        self.query_one(RunMetrics).show(update.history, update.evals)
        self._show_memory()
        _update(self.query_one("#run-output", Static), tail_content(news.tail))

    def _snapshot(self) -> MachineSnapshot | None:
        return getattr(self.app, "snapshot", None)

    def _snapshot_changed(self, snapshot: MachineSnapshot | None) -> None:
        if self.feed is not None:
            self.feed.plan_for(largest_gpu_gib(snapshot))
        if self.latest is not None and self.latest.update.summary.active:
            self._show_memory()

    def _show_memory(self) -> None:
        if self.latest is None:
            return
        items = memory_items(self.latest.update, self._snapshot(), self.latest.estimate)
        self.query_one("#run-memory", ItemLine).items = items
