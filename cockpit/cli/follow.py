"""Follow a run in the terminal (`cockpit train` without --detach): one live progress line.

Rich, not textual: this is the headless twin of the Launch place. It only watches (through
`RunWatcher`); Ctrl-C handling and the final report belong to `cockpit.cli.train`. What the
engine wrote (messages, paths) is echoed through `echo`: secrets redacted as the TUI does,
control characters escaped, Rich markup inert.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

from cockpit.redact import redact
from cockpit.runs.slurm import JobState
from cockpit.runs.status import RunSummary, format_duration
from cockpit.runs.watcher import RunUpdate, RunWatcher
from cockpit.termsafe import safe


def echo(text: object) -> str:
    """Untrusted text (engine messages, logs, paths, names) ready for `Console.print`."""
    return escape(safe(redact(str(text))))


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[status]}"),
        BarColumn(),
        TextColumn("{task.fields[steps]}"),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[speed]}"),
        TextColumn("ETA {task.fields[eta]}"),
        console=console,
    )


def _fields(update: RunUpdate) -> dict[str, Any]:
    summary, latest = update.summary, update.latest_step
    total = summary.total_steps
    speed = latest.tokens_per_s if latest is not None else None
    return {
        "status": summary.status,
        "steps": f"{summary.step or 0}/{total if total is not None else '?'}",
        "loss": f"{summary.last_loss:.4f}" if summary.last_loss is not None else "—",
        "speed": f"{speed:,.0f} tok/s" if speed else "",
        "eta": format_duration(update.eta_s),
    }


def event_line(event: dict[str, Any]) -> str | None:
    """A one-line account of a non-step event worth printing; None for the others."""
    kind = event.get("kind")
    if kind == "start":
        resumed = event.get("resumed_from")
        again = f", resumed from step {resumed}" if resumed else ""
        world = event.get("world_size") or 1
        processes = f"{world} process{'es' * (world != 1)}"
        return (
            f"training {event.get('steps', '?')} steps on {event.get('device', '?')} "
            f"({event.get('backend', '?')}, {processes}){again}"
        )
    if kind == "message":
        return f"{event.get('level', 'info')}: {event.get('text', '')}"
    if kind == "checkpoint":
        return f"checkpoint at step {event.get('step')}: {event.get('path')}"
    if kind == "eval":
        metrics = {k: v for k, v in event.items() if k.startswith("eval_")}
        shown = ", ".join(
            f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()
        )
        return f"eval at step {event.get('step')}: {shown}"
    return None


def _queue_line(summary: RunSummary) -> str:
    """ "Slurm job 12: PENDING (Resources)" while a Slurm run's job state changes; "" else."""
    job = summary.extra.get("slurm")
    if not isinstance(job, dict) or not job.get("state"):
        return ""
    state = JobState.from_json(job)
    return f"Slurm job {summary.extra.get('slurm_job', '?')}: {state.shown()}" if state else ""


def follow(
    watcher: RunWatcher, *, console: Console | None = None, poll_s: float = 0.25
) -> RunSummary:
    """Show the run's progress until it ends; returns the final summary.

    KeyboardInterrupt propagates (the caller asks what to do); calling again with the same
    watcher carries on where it stopped.
    """
    console = console or Console()
    said = ""
    with _progress(console) as progress:
        task: TaskID | None = None
        while True:
            update = watcher.poll()
            queue = _queue_line(update.summary)
            if queue and queue != said:  # a Slurm job: PENDING (Resources), RUNNING on node1
                progress.console.print(echo(queue))
                said = queue
            for event in update.events:
                line = event_line(event)
                if line:
                    progress.console.print(echo(line))
            total = update.summary.total_steps
            if task is None:
                task = progress.add_task("run", total=total, **_fields(update))
            progress.update(
                task, total=total, completed=update.summary.step or 0, **_fields(update)
            )
            if not update.summary.active:
                return update.summary
            time.sleep(poll_s)
