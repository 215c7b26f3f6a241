"""What to tell the user when a run ends: the notification, the cause of a failure, and what
to do next.

Plain strings from a `RunSummary` (no Textual), shared by the notification and the run
view, so both say the same thing and the wording is testable without an app.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, BinaryIO, Literal

from cockpit.runs.status import NO_END, RunSummary
from cockpit.runs.store import RunDir
from engines.protocol import open_regular

if TYPE_CHECKING:
    from cockpit.knowledge.matcher import Match

Severity = Literal["information", "warning", "error"]

SEVERITY: dict[str, Severity] = {
    "finished": "information",
    "stopped": "warning",
    "failed": "error",
    "crashed": "error",
}
RESUMABLE = ("stopped", "failed", "crashed")
"""Statuses a run can be resumed from (when it left a checkpoint)."""
LOG_TAIL_BYTES = 4 * 1024 * 1024
"""How much of the end of a failed run's log is searched for its known cause."""


def unsettled(summary: RunSummary) -> bool:
    """True for "crashed without an end event", which a read may also report in the instant
    between the engine's exit and its reaper recording it: read again before believing it."""
    return summary.status == "crashed" and summary.reason == NO_END


def has_checkpoint(summary: RunSummary) -> bool:
    """True when the run wrote a checkpoint (an event, or a folder left on disk)."""
    if summary.last_checkpoint:
        return True
    try:
        return any(RunDir(summary.run_dir).checkpoints.glob("checkpoint-*"))
    except OSError:
        return False


def has_trained(summary: RunSummary) -> bool:
    """True when the run left something to talk to: its final adapter or a checkpoint."""
    if summary.adapter_path:
        return True
    try:
        return (RunDir(summary.run_dir).adapter).is_dir() or has_checkpoint(summary)
    except OSError:
        return False


def can_resume(summary: RunSummary) -> bool:
    """True for a stopped, failed or crashed run that has a checkpoint to resume from."""
    return summary.status in RESUMABLE and has_checkpoint(summary)


def explain_command(summary: RunSummary) -> str:
    """The command that will annotate this run's log with known errors."""
    return f"cockpit explain {RunDir(summary.run_dir).output}"


def known_problem(summary: RunSummary) -> Match | None:
    """The known cause nearest the end of the run's log (errors before warnings), if any."""
    log = RunDir(summary.run_dir).output
    try:
        info = os.stat(log)
    except OSError:
        return None
    return _tail_problem(str(log), info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=32)
def _tail_problem(path: str, size: int, _mtime_ns: int) -> Match | None:
    start = max(size - LOG_TAIL_BYTES, 0)
    try:
        with open_regular(path) as handle:  # a FIFO named output.log must not hang the UI
            lines_before = sum(block.count(b"\n") for block in _blocks(handle, start))
            data = handle.read(LOG_TAIL_BYTES)
    except OSError:
        return None
    from cockpit.knowledge.matcher import ChunkScanner  # the catalog: only for an ended run

    scanner = ChunkScanner()
    found = scanner.feed(data, lines_before + 1) + scanner.finish()
    errors = [m for m in found if m.severity == "error"]
    known = [m for m in errors if m.id != "unrecognized_error"]
    return (known or errors or found or [None])[-1]


def _blocks(handle: BinaryIO, limit: int) -> Iterator[bytes]:
    """The file's first `limit` bytes, a megabyte at a time."""
    while limit > 0:
        block = handle.read(min(limit, 1 << 20))
        if not block:
            return
        limit -= len(block)
        yield block


def cause(summary: RunSummary) -> str:
    """Why the run is not running any more ("" when it finished or still runs)."""
    if summary.status in ("finished", "starting", "running"):
        return ""
    return summary.reason or summary.status


def next_steps(summary: RunSummary, resumable: bool) -> list[str]:
    """What to do now, most useful first."""
    steps: list[str] = []
    if summary.status in ("failed", "crashed", "unknown", "unreadable"):
        problem = known_problem(summary)
        if problem is None:
            steps.append("read the log with l (or: " + explain_command(summary) + ")")
        else:
            steps.append(f"l opens the log at line {problem.line:,}: {problem.title}")
    if resumable:
        steps.append("resume from the last checkpoint with r")
    elif summary.status in ("failed", "crashed"):
        steps.append("fix the cause, then start a new run from the launch pane (n)")
    return steps


def _steps_text(summary: RunSummary) -> str:
    step = "?" if summary.step is None else summary.step
    total = "?" if summary.total_steps is None else summary.total_steps
    return f"step {step}/{total}"


def ending_note(summary: RunSummary, resumable: bool) -> tuple[str, str, Severity]:
    """(title, message, severity) of the notification for a run that just ended."""
    severity = SEVERITY.get(summary.status, "warning")
    title = f"Run {summary.status}"
    if summary.status == "finished":
        loss = f", loss {summary.last_loss:.4f}" if summary.last_loss is not None else ""
        saved = " Adapter saved." if summary.adapter_path else ""
        return title, f"{summary.id}: {_steps_text(summary)}{loss}.{saved}", severity
    message = f"{summary.id} at {_steps_text(summary)}: {cause(summary)}."
    steps = next_steps(summary, resumable)
    if steps:
        message += f" Next: {steps[0]}."
    return title, message, severity
