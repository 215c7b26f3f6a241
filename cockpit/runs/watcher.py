"""Watch one run: new events since the last poll, coalesced, plus the derived status.

Meant for a UI's worker thread at 4–10 Hz, and for two cockpits at once: it only reads
(events through `EventTail`, run.json, the pid). However fast the engine logs, one poll
returns one update: the latest step, how many steps arrived, the rarer events in full
(start, eval, checkpoint, message, end; bounded), and a chart history of at most
`max_points` steps. When the history fills, every other point is dropped and from then on
only every 2nd (4th, …) step is kept, so it spans the whole run at an even spacing.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.runs.runjson import RunMetaError, read_meta
from cockpit.runs.samples import SampleLog
from cockpit.runs.status import EventFold, RunSummary, summarize, unreadable_summary
from cockpit.runs.store import RunDir, liveness
from engines.protocol import EventTail

_ETA_WINDOW_S = 30.0
"""Throughput for the ETA is measured over about the last this many seconds…"""
_RATE_POINTS = 512
"""…and at most this many steps: a fast run must not hold 30 s of steps in memory."""


@dataclass(frozen=True)
class StepPoint:
    """One step for charts; None where the engine did not report the value."""

    step: int
    t: float
    loss: float | None = None
    lr: float | None = None
    grad_norm: float | None = None
    tokens_per_s: float | None = None
    epoch: float | None = None
    peak_mem_bytes: int | None = None
    """CUDA: torch's max_memory_allocated; elsewhere the process's peak RSS."""
    peak_reserved_bytes: int | None = None
    """CUDA only: torch's max_memory_reserved (the allocator's cache included)."""
    reward: float | None = None
    kl: float | None = None
    completion_length: float | None = None
    rewards: tuple[tuple[str, float], ...] = ()
    """GRPO: mean reward per reward function, as (name, value) pairs."""

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> StepPoint:
        rewards = event.get("rewards")
        pairs = tuple(
            (str(k), float(v))
            for k, v in (rewards.items() if isinstance(rewards, Mapping) else ())
            if _is_number(v)
        )
        values = {
            name: _num(event.get(name))
            for name in ("loss", "lr", "grad_norm", "tokens_per_s", "epoch", "reward", "kl")
        }
        return cls(
            step=int(_num(event.get("step")) or 0),
            t=_num(event.get("t")) or 0.0,
            peak_mem_bytes=_int(event.get("peak_mem_bytes")),
            peak_reserved_bytes=_int(event.get("peak_reserved_bytes")),
            completion_length=_num(event.get("completion_length")),
            rewards=pairs,
            **values,
        )


class StepHistory:
    """At most `max_points` steps, evenly decimated over the whole run."""

    def __init__(self, max_points: int = 1000) -> None:
        self.max_points = max(max_points, 2)
        self._points: list[StepPoint] = []
        self._stride = 1
        self._seen = 0

    def add(self, point: StepPoint) -> None:
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        self._points.append(point)
        if len(self._points) >= self.max_points:
            self._points = self._points[::2]
            self._stride *= 2

    @property
    def points(self) -> tuple[StepPoint, ...]:
        return tuple(self._points)


@dataclass(frozen=True)
class RunUpdate:
    """What changed since the previous poll, and where the run stands now."""

    summary: RunSummary
    latest_step: StepPoint | None
    """The newest step of the run (not only of this poll)."""
    new_steps: int
    """Step events that arrived since the previous poll."""
    events: tuple[dict[str, Any], ...]
    """New non-step events (start, eval, checkpoint, message, end, …), oldest first."""
    history: tuple[StepPoint, ...]
    """The bounded chart history (see the module docstring)."""
    evals: tuple[dict[str, Any], ...]
    """Every eval event so far (bounded)."""
    steps_per_s: float | None
    eta_s: float | None
    samples: tuple[dict[str, Any], ...] = ()
    """GRPO's newest samples events (cockpit.runs.samples), oldest first."""
    no_signal: str | None = None
    """The warning that GRPO has had no reward variance for many steps, while it holds."""

    @property
    def changed(self) -> bool:
        """True when this poll brought new events."""
        return bool(self.new_steps or self.events)


class RunWatcher:
    """Polls one run directory; never writes to it."""

    def __init__(
        self, run_dir: str | os.PathLike[str], *, max_points: int = 1000, max_events: int = 200
    ) -> None:
        self.run = RunDir(Path(run_dir))
        self._tail = EventTail(self.run.events)
        self._fold = EventFold()
        self._history = StepHistory(max_points)
        self._recent: deque[StepPoint] = deque(maxlen=_RATE_POINTS)
        self._evals: list[dict[str, Any]] = []
        self._max_events = max_events
        self._latest: StepPoint | None = None
        self._samples = SampleLog()
        self._events_error = ""

    def poll(self, now: float | None = None) -> RunUpdate:
        """Read what is new and derive the status; cheap enough for 10 Hz. A large backlog
        (opening a long run) is folded chunk by chunk, never held whole."""
        now = time.time() if now is None else now
        others: deque[dict[str, Any]] = deque(maxlen=self._max_events)
        steps = 0
        for chunk in self._chunks():
            for event in chunk:
                self._fold.add(event)
                kind = event.get("kind")
                if kind == "step":
                    steps += 1
                    self._add_step(StepPoint.from_event(event))
                    continue
                others.append(event)
                if kind == "start":
                    self._recent.clear()  # a resumed segment: no rate across the pause
                elif kind == "samples":
                    self._samples.add(event)
                elif kind == "eval":
                    self._evals = [*self._evals, dict(event)][-self._max_events :]
        summary = self._summary(now)
        rate = steps_per_second(self._recent)
        return RunUpdate(
            summary=summary,
            latest_step=self._latest,
            new_steps=steps,
            events=tuple(others),
            history=self._history.points,
            evals=tuple(self._evals),
            steps_per_s=rate,
            eta_s=eta_seconds(summary, rate),
            samples=tuple(self._samples.events),
            no_signal=self._samples.no_signal(),
        )

    def _chunks(self) -> Iterator[list[dict[str, Any]]]:
        """The new events, one read's worth at a time, until the end of the file."""
        self._events_error = ""
        while True:
            before = self._tail.offset
            try:
                chunk = self._tail.read()
            except OSError as exc:  # a FIFO, a directory, no permission: say so, go on
                self._events_error = f"cannot read {self.run.events.name}: {exc.strerror or exc}"
                return
            yield chunk
            if self._tail.offset == before:
                return

    def _add_step(self, point: StepPoint) -> None:
        self._latest = point
        self._history.add(point)
        self._recent.append(point)
        cutoff = point.t - _ETA_WINDOW_S
        while len(self._recent) > 2 and self._recent[0].t < cutoff:
            self._recent.popleft()

    def _summary(self, now: float) -> RunSummary:
        try:
            meta = read_meta(self.run.run_json)
        except RunMetaError as exc:
            return unreadable_summary(self.run.path, str(exc))
        if self._events_error:
            return unreadable_summary(self.run.path, self._events_error)
        alive, job = liveness(self.run, meta)
        return summarize(self.run.path, meta, self._fold, alive, now, job)


def steps_per_second(points: Sequence[StepPoint]) -> float | None:
    """Throughput between the first and last point (None with fewer than two)."""
    if len(points) < 2:
        return None
    first, last = points[0], points[-1]
    if last.t <= first.t or last.step <= first.step:
        return None
    return (last.step - first.step) / (last.t - first.t)


def eta_seconds(summary: RunSummary, rate: float | None) -> float | None:
    """Seconds to the last step at `rate`; None when not running or not known."""
    if summary.status != "running" or not rate or summary.total_steps is None:
        return None
    left = summary.total_steps - (summary.step or 0)
    return max(left, 0) / rate


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _int(value: Any) -> int | None:
    return int(value) if _is_number(value) else None
