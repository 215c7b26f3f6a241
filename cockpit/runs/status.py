"""What state a run is in, derived from run.json, its events and whether its pid lives.

Pure functions over plain data, so the store, the watcher and the UI agree, and every rule
is testable without a process. The rules:

- The last `start` opens the current segment (a resume appends a new start). run.json's
  `starts_before` says how many starts the file held when the current launch began; until
  the engine writes one more, the current launch has no events yet.
- An `end` event written by the current launch gives the status, even with no start before
  it (an engine that fails or is stopped while loading writes no start): run.json's
  `ends_before` says how many ends the file held when the launch began (older runs: an end
  after the launch's `launch_started`, or after its own start). An end "finished" with
  `steps_done` 0 (or, without `steps_done`, no step event at all) is `failed`, "trained 0
  steps"; an end "stopped" is `stopped` however few steps it trained.
- No end: pid alive → `running` (or `starting` before the first step). pid gone → the exit
  the reaper recorded: a signal → `crashed` with its name; exit 0 with no step → `failed`
  (the seeds' "finished in one minute with an empty log"); anything else → `crashed`.
  Nothing recorded (the reaper itself was killed) → `crashed`, process gone without an end
  event. After `cockpit stop`, a forced end (or an exit without an end) is `stopped`.
- A crash without an end event names a full disk when the output's tail (or the note the
  reaper leaves when it cannot rewrite run.json) shows one, with the fix.
- A Slurm run (run.json's `slurm_job`) has no pid here: the job's state stands in for it
  (`cockpit.runs.slurm`). PENDING is `queued` with Slurm's reason; RUNNING is `starting` or
  `running`; an ended job without an end event is `stopped` (CANCELLED, PREEMPTED,
  TIMEOUT) or `crashed` (FAILED, OUT_OF_MEMORY, NODE_FAIL…) with Slurm's word first. A
  TIMEOUT says so even when the engine, sent SIGTERM at the limit, wrote its end.
- An ssh run one of whose hosts failed (run.json's `host_failed`, written by
  `cockpit.runs.ssh_launch`) is `crashed`, naming the host, whatever the others wrote.
- A run folder that cannot be read (a damaged or hostile run.json, an events.jsonl that is
  a FIFO or unreadable) is `unreadable`, with the reason.

Hostile values never raise here: numbers are used only when finite, times only in range.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

Status = Literal[
    "queued",
    "starting",
    "running",
    "finished",
    "failed",
    "stopped",
    "crashed",
    "unknown",
    "unreadable",
]
ACTIVE: tuple[str, ...] = ("queued", "starting", "running")
"""Statuses of a run whose process may still be working."""

EXIT_0_NO_STEP = (
    "exited 0 without training a step (wrong interpreter? import failure swallowed? empty data?)"
)
NO_END = "crashed (process gone without an end event)"
NEVER_STARTED_S = 120.0
"""A run with no engine pid this long after it was created was never spawned."""
_SIGNAL_HINTS = {
    "SIGKILL": "killed; often the kernel's out-of-memory killer (check `dmesg`)",
    "SIGSEGV": "segmentation fault in native code (CUDA, bitsandbytes, a compiled kernel)",
    "SIGABRT": "aborted by native code (e.g. glibc 'double free detected', a failed assert)",
    "SIGBUS": "bus error (often a full /dev/shm or disk)",
}


@dataclass
class EventFold:
    """Everything status derivation needs from events, folded one event at a time."""

    starts: int = 0
    start: dict[str, Any] | None = None
    """The last start event."""
    ends: int = 0
    step_events: int = 0
    segment_steps: int = 0
    """Step events since the last start."""
    last_step: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    """The end event of the current segment (reset by a start)."""
    last_end: dict[str, Any] | None = None
    """The last end event, start or not (an engine that fails while loading writes no start)."""
    last_checkpoint: dict[str, Any] | None = None
    first_t: float | None = None
    last_t: float | None = None

    def add(self, event: Mapping[str, Any]) -> None:
        kind, t = event.get("kind"), finite_number(event.get("t"))
        if t is not None:
            self.first_t = t if self.first_t is None else self.first_t
            self.last_t = t
        if kind == "start":
            self.starts += 1
            self.start, self.end, self.segment_steps = dict(event), None, 0
        elif kind == "step":
            self.step_events += 1
            self.segment_steps += 1
            self.last_step = dict(event)
        elif kind == "end":
            self.ends += 1
            self.end = self.last_end = dict(event)
        elif kind == "checkpoint":
            self.last_checkpoint = dict(event)

    def add_all(self, events: Iterable[Mapping[str, Any]]) -> EventFold:
        for event in events:
            self.add(event)
        return self


@dataclass(frozen=True)
class RunSummary:
    """One run as lists and views show it. Times are unix seconds; None when not known."""

    id: str
    run_dir: Path
    status: Status
    reason: str = ""
    profile: str = ""
    engine: str = ""
    step: int | None = None
    total_steps: int | None = None
    last_loss: float | None = None
    started: float | None = None
    ended: float | None = None
    duration_s: float | None = None
    pid: int | None = None
    exit_code: int | None = None
    signal: str | None = None
    adapter_path: str | None = None
    last_checkpoint: str | None = None
    created: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Other facts worth showing: host, python, backend, device, world_size, error class."""

    @property
    def active(self) -> bool:
        """True while the run may still be training (starting or running)."""
        return self.status in ACTIVE

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        for key in ("started", "ended", "created"):
            data[key] = iso_time(getattr(self, key))
        return data


def iso_time(t: float | None) -> str | None:
    """Unix seconds as an ISO 8601 UTC string."""
    if t is None:
        return None
    try:
        return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, ValueError, OSError):  # beyond the years a datetime holds
        return None


def format_duration(seconds: float | None) -> str:
    """12 s → "12s", 75 s → "1:15", 3725 s → "1:02:05"; "—" when unknown."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}" if minutes else f"{secs}s"


def derive_status(
    meta: Mapping[str, Any],
    fold: EventFold,
    alive: bool | None,
    now: float | None = None,
    job: Mapping[str, Any] | None = None,
) -> tuple[Status, str]:
    """(status, reason) of a run; `alive`: its pid runs (None: cannot tell, another host);
    `now` lets a run that was created but never spawned end as failed; `job`: a Slurm run's
    job state (`JobState.to_json()`), None when Slurm does not know it."""
    current = fold.starts > _int(meta.get("starts_before"), 0)
    end = current_end(meta, fold)
    steps = fold.segment_steps if current else 0
    failed = meta.get("host_failed")  # an ssh run: one host's engine ended the run
    if isinstance(failed, Mapping) and (end is None or end.get("status") != "finished"):
        return "crashed", f"host {failed.get('host')}: {failed.get('reason')}"
    if end is not None:
        status, reason = _from_end(end, fold)
        if _timed_out(job):
            return status, f"TIMEOUT: {_TIMEOUT_TEXT}; {reason}"
        return status, reason
    if meta.get("spawn_error"):
        return "failed", f"could not start the engine: {meta['spawn_error']}"
    if meta.get("slurm_job"):
        return _from_job(meta, job, steps)
    exited = meta.get("exit_code") is not None or bool(meta.get("signal"))
    if not exited:
        if _never_spawned(meta, now):
            return "failed", "the engine was never started (cockpit stopped before spawning it)"
        if meta.get("pid") is None or alive is not False:
            return ("running" if steps else "starting"), _live_reason(meta, alive)
        if meta.get("stop_requested"):
            return "stopped", "killed by `cockpit stop` before it wrote an end event"
        return "crashed", NO_END
    return _from_exit(meta, steps)


_TIMEOUT_TEXT = "Slurm ended the job at its time limit; resume it, or raise launch.time"
_JOB_ENDS: dict[str, tuple[Status, str]] = {
    "CANCELLED": ("stopped", "cancelled (scancel)"),
    "PREEMPTED": ("stopped", "preempted by a job of higher priority; resume it"),
    "TIMEOUT": ("stopped", _TIMEOUT_TEXT),
    "DEADLINE": ("stopped", "reached its deadline (--deadline)"),
    "OUT_OF_MEMORY": (
        "crashed",
        "Slurm killed it for using more host memory than it asked for; "
        'ask for more with launch.sbatch = ["--mem=…"]',
    ),
    "NODE_FAIL": ("crashed", "a node of the job failed"),
    "BOOT_FAIL": ("crashed", "a node failed to boot"),
    "FAILED": ("crashed", "the job failed"),
    "COMPLETED": ("crashed", "the job ended without an end event"),
}


def _timed_out(job: Mapping[str, Any] | None) -> bool:
    """Slurm ended the job at its limit: TIMEOUT, or still COMPLETING for that reason
    (the engine, sent SIGTERM, may write its end before Slurm's state turns TIMEOUT)."""
    if not job:
        return False
    state = job.get("state")
    return state == "TIMEOUT" or (state == "COMPLETING" and job.get("reason") == "TimeLimit")


def _from_job(
    meta: Mapping[str, Any], job: Mapping[str, Any] | None, steps: int
) -> tuple[Status, str]:
    """A Slurm run without an end event of this launch (see the module docstring)."""
    job_id = meta.get("slurm_job")
    if job is None:
        return "unknown", f"Slurm job {job_id}: squeue, scontrol and sacct do not know it"
    state = str(job.get("state") or "")
    reason = str(job.get("reason") or "")
    if state in ("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD") and not steps:
        why = f" ({reason})" if reason and reason != "None" else ""
        return "queued", f"{state}{why}: Slurm job {job_id} waits for its nodes"
    if state not in _JOB_ENDS:
        if steps or state in ("RUNNING", "COMPLETING", "SUSPENDED", "SIGNALING", "STAGE_OUT"):
            return ("running" if steps else "starting"), _live_reason(meta, True) or (
                "" if state == "RUNNING" else state
            )
        return "unknown", f"Slurm job {job_id} is {state or 'in no known state'}"
    status, text = _JOB_ENDS[state]
    code = (
        f" (exit code {job['exit_code']})" if job.get("exit_code") not in (None, "", "0:0") else ""
    )
    if meta.get("stop_requested") and state in ("CANCELLED", "COMPLETED", "FAILED"):
        return "stopped", f"{state}{code}: stopped by `cockpit stop` before it wrote an end event"
    if state == "COMPLETED" and not steps:
        return "failed", f"{state}{code}: {EXIT_0_NO_STEP}"
    return status, f"{state}{code}: {text}"


def current_end(meta: Mapping[str, Any], fold: EventFold) -> dict[str, Any] | None:
    """The end event the current launch wrote, or None (see the module docstring)."""
    if fold.end is not None and fold.starts > _int(meta.get("starts_before"), 0):
        return fold.end
    if fold.last_end is None:
        return None
    ends_before = _int(meta.get("ends_before"), None)
    if ends_before is not None:
        return fold.last_end if fold.ends > ends_before else None
    launched, end_t = (
        finite_number(meta.get("launch_started")),
        finite_number(fold.last_end.get("t")),
    )
    if launched is not None and end_t is not None and end_t >= launched:
        return fold.last_end  # a run recorded before `ends_before` existed
    return None


def _never_spawned(meta: Mapping[str, Any], now: float | None) -> bool:
    created = finite_number(meta.get("created"))
    if now is None or created is None or meta.get("pid") is not None:
        return False
    return now - created > NEVER_STARTED_S


def _live_reason(meta: Mapping[str, Any], alive: bool | None) -> str:
    if meta.get("stop_requested"):
        return "stopping"
    if alive is None and meta.get("pid") is not None:
        return f"on {meta.get('host') or 'another host'}: its process cannot be checked from here"
    return ""


def _from_end(end: Mapping[str, Any], fold: EventFold) -> tuple[Status, str]:
    status = end.get("status")
    if status == "finished":
        done = _int(end.get("steps_done"), None)
        if done == 0 or (done is None and fold.step_events == 0):
            return "failed", "trained 0 steps: the engine finished without an optimizer step"
        return "finished", ""
    if status == "failed":
        error = ": ".join(str(end[k]) for k in ("error_class", "error_message") if end.get(k))
        return "failed", error or "the engine reported a failure"
    if status == "stopped":
        step = _int(end.get("steps_done"), None)
        step = _int((fold.last_step or {}).get("step"), None) if step is None else step
        if not step:
            return "stopped", "stopped before its first step (while loading)"
        return "stopped", f"stopped at step {step}"
    return "unknown", f"end event with unknown status {status!r}"


def _from_exit(meta: Mapping[str, Any], steps: int) -> tuple[Status, str]:
    sig = meta.get("signal")
    stopping = bool(meta.get("stop_requested"))
    if sig:
        if stopping:
            return "stopped", f"stopped with {sig} before it wrote an end event"
        hint = _SIGNAL_HINTS.get(str(sig))
        return "crashed", f"{sig}: {hint}" if hint else str(sig)
    code = meta.get("exit_code")
    if stopping:  # before the exit-0 rule: a stop while loading is no wrong interpreter
        return "stopped", f"exited with code {code} after `cockpit stop`, without an end event"
    if code == 0 and not steps:
        return "failed", EXIT_0_NO_STEP
    return "crashed", f"exited with code {code} without an end event (see output.log)"


DISK_FULL_FIX = "free disk space, then resume the run (it goes on from its last checkpoint)"
_DISK_FULL_MARKS = ("no space left on device", "[errno 28]", "enospc")
_DISK_FULL_ERRNOS = ("ENOSPC", "EDQUOT")


def crash_reason(reason: str, tail: Iterable[str], unrecorded: str | None = None) -> str:
    """The reason of a crash without an end event, naming a full disk (and the fix) when the
    output's last lines show one. `unrecorded`: the errno name the reaper left when it could
    not write the exit into run.json."""
    lowered = [line.lower() for line in tail]
    if unrecorded in _DISK_FULL_ERRNOS or any(
        mark in line for line in lowered for mark in _DISK_FULL_MARKS
    ):
        return f"no space left on device: {reason}; fix: {DISK_FULL_FIX}"
    if unrecorded:
        return f"{reason}; its exit could not be written to run.json ({unrecorded})"
    return reason


def summarize(
    run_dir: Path,
    meta: Mapping[str, Any],
    fold: EventFold,
    alive: bool | None,
    now: float | None = None,
    job: Mapping[str, Any] | None = None,
) -> RunSummary:
    """The RunSummary of one run from its parts (`now` for the duration of a live run;
    `job`: a Slurm run's job state)."""
    now = time.time() if now is None else now
    status, reason = derive_status(meta, fold, alive, now, job)
    start, step = fold.start or {}, fold.last_step or {}
    end = current_end(meta, fold) or {}
    started = _time(meta.get("started")) or _time(fold.first_t)
    ended = _ended(status, meta, fold, end)
    duration = None if started is None else max((ended or now) - started, 0.0)
    return RunSummary(
        id=run_dir.name,  # the folder is what `stop`, `report` and resume look up
        run_dir=run_dir,
        status=status,
        reason=reason,
        profile=_text(meta.get("profile")) or "",
        engine=_text(meta.get("engine")) or _text(start.get("engine")) or "",
        step=_int(step.get("step"), None),
        total_steps=_int(start.get("steps"), None),
        last_loss=finite_number(step.get("loss")),
        started=started,
        ended=ended,
        duration_s=duration,
        pid=_int(meta.get("pid"), None),
        exit_code=_int(meta.get("exit_code"), None),
        signal=_text(meta.get("signal")),
        adapter_path=_text(end.get("adapter_path")),
        last_checkpoint=_text((fold.last_checkpoint or {}).get("path")),
        created=_time(meta.get("created")),
        extra=_extra(meta, start, end) | ({"slurm": dict(job)} if job else {}),
    )


def _ended(
    status: str, meta: Mapping[str, Any], fold: EventFold, end: Mapping[str, Any]
) -> float | None:
    if status in ACTIVE:
        return None
    if end:
        return _time(end.get("t"))
    return _time(meta.get("ended")) or _time(fold.last_t)


def _extra(meta: Mapping[str, Any], start: Mapping[str, Any], end: Mapping[str, Any]) -> dict:
    keys = ("host", "python", "command_text", "launches", "notified", "launcher", "slurm_job")
    picked = {k: meta.get(k) for k in keys}
    picked |= {k: start.get(k) for k in ("backend", "device", "world_size", "epochs")}
    picked |= {k: end.get(k) for k in ("error_class", "error_message")}
    return {k: v for k, v in picked.items() if v is not None}


def unreadable_summary(run_dir: Path, reason: str) -> RunSummary:
    """A run whose folder cannot be read: listed as "unreadable" with the reason."""
    return RunSummary(id=run_dir.name, run_dir=run_dir, status="unreadable", reason=reason)


_LARGEST = 2.0**63
"""Numbers beyond ±this are no step, count or loss an engine wrote."""
_LATEST = 1e11
"""Unix seconds beyond ±this (year ~5100) are no time an engine wrote."""


def finite_number(value: Any) -> float | None:
    """A JSON number as a finite float within ±2**63, else None (bools, huge ints, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and abs(value) > _LARGEST:
        return None  # float() of a 4000-digit int raises OverflowError
    value = float(value)
    return value if math.isfinite(value) and abs(value) <= _LARGEST else None


def _int(value: Any, default: int | None) -> int | None:
    number = finite_number(value)
    return default if number is None else int(value)


def _time(value: Any) -> float | None:
    number = finite_number(value)
    return number if number is not None and abs(number) <= _LATEST else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
