"""What to tell the user when a run ends: the notification, the cause of a failure, and what
to do next.

Plain strings from a `RunSummary` (no Textual), shared by the notification and the run
view, so both say the same thing and the wording is testable without an app.
"""

from __future__ import annotations

from typing import Literal

from cockpit.runs.status import NO_END, RunSummary
from cockpit.runs.store import RunDir

Severity = Literal["information", "warning", "error"]

SEVERITY: dict[str, Severity] = {
    "finished": "information",
    "stopped": "warning",
    "failed": "error",
    "crashed": "error",
}
RESUMABLE = ("stopped", "failed", "crashed")
"""Statuses a run can be resumed from (when it left a checkpoint)."""


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


def can_resume(summary: RunSummary) -> bool:
    """True for a stopped, failed or crashed run that has a checkpoint to resume from."""
    return summary.status in RESUMABLE and has_checkpoint(summary)


def explain_command(summary: RunSummary) -> str:
    """The command that will annotate this run's log with known errors."""
    return f"cockpit explain {RunDir(summary.run_dir).output}"


def cause(summary: RunSummary) -> str:
    """Why the run is not running any more ("" when it finished or still runs)."""
    if summary.status in ("finished", "starting", "running"):
        return ""
    return summary.reason or summary.status


def next_steps(summary: RunSummary, resumable: bool) -> list[str]:
    """What to do now, most useful first."""
    steps: list[str] = []
    if summary.status in ("failed", "crashed", "unknown"):
        steps.append(f"open the log: {explain_command(summary)} (coming)")
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
