"""What the run view needs from one run directory, polled off the UI thread.

`RunFeed.poll()` wraps the `RunWatcher` (which coalesces however many events arrived into
one update) and adds the last lines of output.log (read again only when the file grew) and
the profile's VRAM estimate (computed once). It answers None when nothing a user could see
has changed, so an idle or finished run costs the UI nothing. No Textual: it runs in a
worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cockpit.profiles.store import load_profile_file
from cockpit.runs.endings import unsettled
from cockpit.runs.store import RunDir, output_tail
from cockpit.runs.watcher import RunUpdate, RunWatcher
from cockpit.vram.analytic import Estimate
from cockpit.vram.estimate import estimate

TAIL_LINES = 8


@dataclass(frozen=True)
class RunEstimate:
    """The frozen profile's estimate on the card the app sees, or why there is none."""

    result: Estimate | None
    note: str = ""


@dataclass(frozen=True)
class FeedUpdate:
    """One poll's news for the view."""

    run_id: str
    update: RunUpdate
    tail: tuple[str, ...]
    estimate: RunEstimate


def estimate_run(run: RunDir, gpu_gib: float | None) -> RunEstimate:
    """The VRAM estimate of the run's frozen profile.toml; never raises."""
    loaded = load_profile_file(run.profile_file)
    if loaded.profile is None:
        return RunEstimate(None, loaded.error or "its profile.toml does not validate")
    try:
        return RunEstimate(estimate(loaded.profile, gpu_gib, suggest=False))
    except Exception as exc:  # an unknown model or a bad value: say so, never crash
        return RunEstimate(None, f"no estimate: {exc}")


class RunFeed:
    """Polls one run for the view; not thread-safe (one poll at a time)."""

    def __init__(self, run_dir: Path, gpu_gib: float | None) -> None:
        self.run = RunDir(Path(run_dir))
        self.gpu_gib = gpu_gib
        self.active = True
        """Whether the run was starting or running at the last poll."""
        self._watcher = RunWatcher(self.run.path)
        self._estimate: RunEstimate | None = None
        self._seen: tuple[object, ...] | None = None
        self._output_size = -1
        self._tail: tuple[str, ...] = ()

    @property
    def run_id(self) -> str:
        return self.run.id

    def plan_for(self, gpu_gib: float | None) -> None:
        """Judge the estimate on another card (the first sample, a GPU that appeared)."""
        if gpu_gib != self.gpu_gib:
            self.gpu_gib = gpu_gib
            self._estimate = None
            self._seen = None  # the next poll reports, with the new estimate

    def poll(self) -> FeedUpdate | None:
        """What changed since the last poll; None when nothing did."""
        update = self._watcher.poll()
        changed = update.changed
        if unsettled(update.summary):
            update = self._watcher.poll()
            changed = changed or update.changed
        summary = update.summary
        self.active = summary.active
        tail_changed = self._read_tail()
        if self._estimate is None:
            self._estimate = estimate_run(self.run, self.gpu_gib)
        job = summary.extra.get("slurm") or {}  # a Slurm job goes on after the engine's end
        seen = (summary.status, summary.reason, summary.step, summary.total_steps, str(job))
        if seen == self._seen and not changed and not tail_changed:
            return None
        self._seen = seen
        return FeedUpdate(self.run_id, update, self._tail, self._estimate)

    def _read_tail(self) -> bool:
        try:
            size = self.run.output.stat().st_size
        except OSError:
            size = -1
        if size == self._output_size:
            return False
        self._output_size = size
        self._tail = tuple(output_tail(self.run, TAIL_LINES))
        return True
