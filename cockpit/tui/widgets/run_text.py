"""The run view's lines of text, as pure functions of a run's update and the machine snapshot.

Kept apart from the widget so each line is testable, and so the widget only decides where
things go. Unknown values are left out or shown as "n/a", never as a fake zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from cockpit.hardware.format import fmt_bytes
from cockpit.hardware.snapshot import MachineSnapshot
from cockpit.runs.endings import cause, next_steps
from cockpit.runs.feed import RunEstimate
from cockpit.runs.slurm import JobState
from cockpit.runs.status import RunSummary, format_duration
from cockpit.runs.watcher import RunUpdate, StepPoint
from cockpit.tui.widgets.profile_list import verdict_style
from cockpit.tui.widgets.run_list import status_content
from cockpit.vram.analytic import Estimate


def head_content(summary: RunSummary) -> Content:
    """The run id and status; then profile, engine, backend, device and pid."""
    status = status_content(summary.status)
    if summary.active and summary.reason == "stopping":
        status = Content.assemble(status, (" (stopping…)", "$warning"))
    extra = summary.extra
    facts = [summary.profile, summary.engine]
    if extra.get("backend") or extra.get("device"):
        facts.append(f"{extra.get('backend', '?')} on {extra.get('device', '?')}")
    world = extra.get("world_size")
    if isinstance(world, int) and world > 1:
        facts.append(f"{world} processes")
    if summary.pid is not None:
        facts.append(f"pid {summary.pid}")
    return Content.assemble(
        (summary.id, "bold"),
        "  ",
        status,
        "\n",
        (" · ".join(f for f in facts if f), "$text-muted"),
        *_queue(extra),
        *_notified(extra.get("notified")),
    )


def _queue(extra: dict) -> tuple[str | tuple[str, str], ...]:
    """A Slurm run's job: its state (with why it waits) and its nodes."""
    job = JobState.from_json(extra.get("slurm"))
    if job is None:
        return ()
    style = "$warning" if job.queued else "$text-muted"
    return ("\n", (f"Slurm job {job.job_id or extra.get('slurm_job', '?')}: {job.shown()}", style))


def _notified(outcome: object) -> tuple[str | tuple[str, str], ...]:
    """Whether the run-end notification ([notify] urls) went out; nothing when none was due."""
    if not isinstance(outcome, dict):
        return ()
    if outcome.get("ok"):
        return (" · ", ("notified", "$text-muted"))
    error = str(outcome.get("error") or "not delivered")
    return ("\n", (f"notification not delivered: {error}", "$warning"))


def progress_fraction(summary: RunSummary) -> float | None:
    """Steps done / total steps, or None before the total is known."""
    if not summary.total_steps:
        return None
    return min(max((summary.step or 0) / summary.total_steps, 0.0), 1.0)


def numbers_items(update: RunUpdate) -> tuple[Content, ...]:
    """step/total · epoch · loss · tokens/s · steps/s · ETA · elapsed."""
    summary, latest = update.summary, update.latest_step
    total = "?" if summary.total_steps is None else summary.total_steps
    parts = [Content.styled(f"step {summary.step or 0}/{total}", "bold")]
    epochs = summary.extra.get("epochs")
    if latest is not None and latest.epoch is not None:
        of = f"/{epochs:g}" if isinstance(epochs, (int, float)) else ""
        parts.append(Content(f"epoch {latest.epoch:.2f}{of}"))
    if summary.last_loss is not None:
        parts.append(Content.assemble("loss ", (f"{summary.last_loss:.4f}", "bold")))
    if latest is not None and latest.tokens_per_s:
        parts.append(Content(f"{latest.tokens_per_s:,.0f} tok/s"))
    if update.steps_per_s:
        parts.append(Content(f"{update.steps_per_s:.2f} steps/s"))
    if summary.active:
        parts.append(Content.assemble("ETA ", (format_duration(update.eta_s), "bold")))
    if summary.duration_s is not None:
        elapsed = format_duration(summary.duration_s)
        parts.append(Content.styled(f"{elapsed} elapsed", "$text-muted"))
    return tuple(parts)


def cause_content(summary: RunSummary, resumable: bool) -> Content | None:
    """Why a run ended other than finished, and what to do next; None otherwise."""
    why = cause(summary)
    if not why:
        return None
    style = "$warning" if summary.status == "stopped" else "$error"
    lines = [Content.assemble((f"{summary.status}: ", f"bold {style}"), why)]
    steps = next_steps(summary, resumable)
    lines += [Content.assemble(("next: ", "$text-muted"), step) for step in steps]
    return Content("\n").join(lines)


def chart_note(summary: RunSummary) -> str:
    """What the loss chart says when it has no point to draw: waiting while the run goes,
    how it ended when it ended before a step (so a crashed run does not read as loading)."""
    if summary.step:
        return "no finite loss reported (NaN or none)"
    if summary.active:
        return "waiting for the first step…"
    why = cause(summary)
    ended = f"{summary.status} before its first step"
    return f"{ended}: {why}" if why and why != summary.status else f"{ended}."


def peak_bytes(
    history: Sequence[StepPoint], latest: StepPoint | None, field: str = "peak_mem_bytes"
) -> int | None:
    """The highest peak memory any step reported (`field`: "peak_reserved_bytes" for the
    allocator's reserved peak)."""
    points = (*history, *([latest] if latest else ()))
    peaks = [getattr(p, field) for p in points if getattr(p, field)]
    return max(peaks) if peaks else None


def gpu_bytes_now(summary: RunSummary, snapshot: MachineSnapshot | None) -> int | None:
    """The run's memory on the GPUs in the latest snapshot (its pid or its run id)."""
    if snapshot is None or not summary.active:
        return None
    used = [
        p.used_memory_bytes
        for gpu in snapshot.gpus
        for p in gpu.processes or ()
        if (p.pid == summary.pid or p.cockpit_run == summary.id) and p.used_memory_bytes
    ]
    return sum(used) if used else None


def _estimate_part(estimate: RunEstimate) -> Content:
    result = estimate.result
    if result is None:
        return Content.styled(estimate.note or "no estimate", "$text-muted")
    style = verdict_style(result.verdict)
    card = f" of {result.gpu_gib:g} GiB" if result.gpu_gib else ""
    text = f"estimate total {result.total_gib:.2f} GiB{card} "
    return Content.assemble(text, (f"({result.verdict})", style))


def _measured(label: str, value: int | None, estimated: float | None) -> Content:
    """A measurement beside the same quantity estimated: peak allocated 3.4 GiB (est. 3.5 GiB)."""
    beside = "" if estimated is None else f" (est. {fmt_bytes(estimated * 1024**3)})"
    return Content.assemble(label, (fmt_bytes(value), "bold"), (beside, "$text-muted"))


def _gpu_items(
    update: RunUpdate, snapshot: MachineSnapshot | None, result: Estimate | None
) -> list[Content]:
    """Like with like: what the GPU shows now against the estimated total (CUDA context
    included), torch's peak allocated and reserved against their estimates."""
    summary = update.summary
    now = gpu_bytes_now(summary, snapshot)
    total = None if result is None else result.total_gib
    if now is None:
        now_text = Content.styled("n/a" if summary.active else "—", "bold")
        parts = [Content.assemble(("memory  ", "$text-muted"), "GPU now ", now_text)]
    else:
        parts = [Content.assemble(("memory  ", "$text-muted"), _measured("GPU now ", now, total))]
    peaks = (update.history, update.latest_step)
    allocated = None if result is None else result.peak_allocated_gib
    parts.append(_measured("peak allocated ", peak_bytes(*peaks), allocated))
    reserved = peak_bytes(*peaks, field="peak_reserved_bytes")
    if reserved is not None:
        estimated = None if result is None else result.peak_reserved_gib
        parts.append(_measured("peak reserved ", reserved, estimated))
    return parts


def memory_items(
    update: RunUpdate, snapshot: MachineSnapshot | None, estimate: RunEstimate
) -> tuple[Content, ...]:
    """Memory now and at peak, each beside the same quantity of the profile's estimate."""
    summary = update.summary
    if str(summary.extra.get("device", "")).startswith("cpu"):
        peak = peak_bytes(update.history, update.latest_step)
        parts = [
            Content.assemble(
                ("memory  ", "$text-muted"), ("CPU run, no GPU memory", "$text-muted")
            ),
            Content(f"peak {fmt_bytes(peak)} RSS"),
        ]
    else:
        parts = _gpu_items(update, snapshot, estimate.result)
    parts.append(_estimate_part(estimate))
    return tuple(parts)


def tail_content(lines: Sequence[str]) -> Content:
    """The last lines of output.log (plain text: it is the engine's, not markup)."""
    if not lines:
        return Content.styled("no output yet", "$text-muted")
    return Content("\n".join(lines))
