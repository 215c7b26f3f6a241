"""The run-only parts of the post-mortem: the run's record, profile and memory, timeline
and retry commands (`cockpit.report.log` holds what a plain log report shares).

Everything comes from the run directory (see `engines.protocol`): run.json, the frozen
profile.toml, events.jsonl and output.log; any of them may be missing or damaged.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.doctor.finding import Finding
from cockpit.report.log import (
    LogScan,
    environment,
    findings_section,
    first_cause,
    fix_first,
    scan_log,
)
from cockpit.report.markdown import code_block, guarded
from cockpit.report.timeline import exit_text, timeline_section
from cockpit.runs.runjson import RunMetaError, read_meta
from cockpit.runs.status import RunSummary, format_duration, iso_time
from cockpit.runs.store import RunDir, summarize_dir
from engines import protocol
from engines.profile_schema import Profile

GIB = 1024**3
_CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class RunFacts:
    """Everything read from one run directory, with what could not be read."""

    run: RunDir
    meta: dict[str, Any]
    summary: RunSummary
    events: tuple[dict[str, Any], ...]
    scan: LogScan
    problems: tuple[str, ...]
    """What is missing or damaged, one sentence each."""


def read_run(run: RunDir, now: float) -> RunFacts:
    """The run's record, events and log scan; never raises for a damaged run."""
    problems: list[str] = []
    try:
        meta = read_meta(run.run_json)
    except RunMetaError as exc:
        meta = {}
        problems.append(f"run.json could not be used ({exc})")
    tail = protocol.EventTail(run.events)
    try:
        events = tuple(tail.read(max_bytes=None))
    except OSError as exc:
        events = ()
        problems.append(f"events.jsonl could not be read ({exc.strerror or exc})")
    if not run.events.exists():
        problems.append("no events.jsonl: the engine never wrote an event")
    elif tail.skipped or _unterminated(run.events):
        problems.append("events.jsonl has damaged or truncated lines (skipped)")
    scan = scan_log(run.output)
    if scan.problem:
        problems.append(scan.problem)
    return RunFacts(run, meta, summarize_dir(run, now=now), events, scan, tuple(problems))


def _unterminated(path: Path) -> bool:
    try:
        with protocol.open_regular(path) as handle:
            if handle.seek(0, 2) == 0:
                return False
            handle.seek(-1, 2)
            return handle.read(1) != b"\n"
    except OSError:
        return False


def run_report_lines(
    run: RunDir, python: str | None, doctor: Sequence[Finding] | None, now: float
) -> list[str]:
    """Every section of a run's post-mortem, in order."""
    facts = read_run(run, now)
    if doctor is None:
        python, note = doctor_python(facts.meta, python)
        doctor = environment_findings(python, _profile(run)[0])
    else:
        note = f"`{python}`" if python else ""
    lines = header(facts)
    lines += guarded("Environment", lambda: environment(doctor, note))
    lines += guarded("Profile and memory", lambda: memory_section(facts))
    lines += guarded("Timeline", lambda: timeline_section(facts.meta, facts.events))
    lines += guarded("Findings", lambda: findings_section(facts.scan, doctor))
    lines += guarded("Retry", lambda: retry_section(facts, doctor))
    return lines


def doctor_python(meta: dict[str, Any], override: str | None) -> tuple[str | None, str]:
    """The interpreter to check, and a note saying which one and why."""
    if override:
        return override, f"`{override}` (given with --python)"
    recorded = str(meta.get("python") or "")
    if recorded and Path(recorded).exists():
        return recorded, f"`{recorded}`, the interpreter the run used"
    if recorded:
        return None, f"`{sys.executable}`; the run's `{recorded}` no longer exists"
    return None, f"`{sys.executable}` (the run recorded no interpreter)"


def environment_findings(python: str | None, profile: Profile | None) -> list[Finding]:
    """The doctor's findings, its resources check sized for the run's model."""
    from cockpit.doctor.context import ModelSize
    from cockpit.doctor.runner import run_doctor
    from cockpit.vram.resolve import resolve_model
    from cockpit.vram.specs import UnknownModel

    models: tuple[ModelSize, ...] = ()
    if profile is not None:
        try:
            spec = resolve_model(profile.model.name_or_path).spec
            models = (ModelSize(profile.model.name_or_path, spec.params),)
        except (UnknownModel, OSError, ValueError):
            models = ()  # the resources check then judges without the run's model
    return run_doctor(python, models=models)


# -- header ---------------------------------------------------------------------------


def header(facts: RunFacts) -> list[str]:
    """Title, the one-line verdict, and the run's record."""
    s = facts.summary
    lines = [f"# Post-mortem: {s.id}", "", f"**Verdict:** {verdict(s, facts.scan)}", ""]
    lines.append(f"- Run directory: `{facts.run.path}`")
    lines.append(f"- Profile: {s.profile or '?'} (engine {s.engine or '?'})")
    if facts.meta.get("host"):
        lines.append(f"- Host: {facts.meta['host']}")
    lines.append(f"- Started: {iso_time(s.started or s.created) or 'never'}")
    lines.append(f"- Duration: {format_duration(s.duration_s)}")
    if s.exit_code is not None or s.signal:
        lines.append(f"- Process: {exit_text(s.exit_code, s.signal)}")
    if s.reason:
        lines.append(f"- Reason: {s.reason}")
    lines += [f"- Note: {problem}" for problem in facts.problems]
    return [*lines, ""]


def verdict(s: RunSummary, scan: LogScan) -> str:
    """ "failed after 37/200 steps: CUDA out of memory (cuda_oom)"."""
    steps = f"{s.step}/{s.total_steps or '?'} steps"
    cause = first_cause(scan.matches) or s.reason
    if s.status == "finished":
        loss = f", final loss {s.last_loss:.4f}" if s.last_loss is not None else ""
        return f"finished {steps} in {format_duration(s.duration_s)}{loss}"
    if s.status in ("starting", "running"):
        return f"still {s.status}" + (f", at {steps}" if s.step is not None else "")
    when = f"after {steps}" if s.step is not None else "before its first step"
    head = f"status {s.status}" if s.status in ("unknown", "unreadable") else f"{s.status} {when}"
    return f"{head}: {cause}" if cause else head


# -- profile and memory -----------------------------------------------------------------


def _profile(run: RunDir) -> tuple[Profile | None, str]:
    from cockpit.profiles.store import load_profile_file
    from cockpit.profiles.validate import describe_problems

    if not run.profile_file.is_file():
        return None, "no frozen profile.toml in the run directory"
    loaded = load_profile_file(run.profile_file)
    if loaded.profile is None:
        return None, loaded.error or describe_problems(loaded.problems)
    return loaded.profile, ""


def memory_section(facts: RunFacts) -> list[str]:
    """The profile's settings that decide memory, its estimate and the measured peak."""
    lines = ["## Profile and memory", ""]
    profile, problem = _profile(facts.run)
    if profile is None:
        return [*lines, f"_{problem}._"]
    m, t = profile.model, profile.train
    lora = f"LoRA r {profile.lora.r}" if profile.lora else "full fine-tune"
    lines.append(
        f"Frozen profile `{facts.run.profile_file}`: model `{m.name_or_path}` (quantization"
        f" {m.quantization}, backend {m.backend}), batch {t.batch_size} × grad_accum"
        f" {t.grad_accum}, max_seq_length {m.max_seq_length}, gradient checkpointing"
        f" {t.gradient_checkpointing}, optimizer {t.optimizer}, {lora}."
    )
    return [*lines, "", *_memory_table(profile, facts.events)]


def _memory_table(profile: Profile, events: Sequence[dict[str, Any]]) -> list[str]:
    """Like with like: each measured peak beside the same quantity estimated (allocated with
    allocated, reserved with reserved), the estimated total against the card the run had."""
    from cockpit.vram.estimate import estimate
    from cockpit.vram.specs import UnknownModel

    measured = _measured_peaks(events)
    rows = ["| | GiB |", "| --- | ---: |"]
    try:
        est = estimate(profile, measured.card_gib if not profile.hardware.gpu_memory_gib else None)
    except (UnknownModel, OSError, ValueError) as exc:
        est, note = None, f"No estimate: {exc}"
    else:
        rows += [
            f"| estimated peak allocated (what torch reports) | {_gib(est.peak_allocated_gib)} |",
            f"| estimated peak reserved (allocator cache included) | {_gib(est.peak_reserved_gib)}"
            " |",
            f"| estimated total on the card (with CUDA context) | {_gib(est.total_gib)} |",
        ]
        note = _card_note(est)
    rows += _measured_rows(measured, est)
    lines = [*rows, "", note]
    if measured.allocated is None:
        lines.append("No step recorded a memory peak: the run ended before its first logged step.")
    if est is not None and est.suggestions:
        lines += ["", "The estimator suggests:", ""]
        lines += [f"- {s.change} → {s.total_gib:.2f} GiB, {s.verdict}" for s in est.suggestions[:3]]
    return lines


def _gib(value: float) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class _Peaks:
    """What the engine measured: peaks in bytes, the device and the card's memory in GiB."""

    allocated: float | None
    reserved: float | None
    device: str | None
    card_gib: float | None

    @property
    def cpu(self) -> bool:
        return self.device is not None and self.device.startswith("cpu")


def _measured_rows(peaks: _Peaks, est: Any) -> list[str]:
    """The measured peaks, each with its difference from the same estimated quantity."""
    label = "measured peak RSS (a CPU run: not GPU memory)" if peaks.cpu else "measured peak"
    shown = _gib(peaks.allocated / GIB) if peaks.allocated is not None else "not recorded"
    allocated = "" if peaks.cpu else " allocated"
    rows = [f"| {label}{allocated} (largest `peak_mem_bytes` of the steps) | {shown} |"]
    if est is None or peaks.cpu:
        return rows
    rows += _difference("peak allocated", peaks.allocated, est.peak_allocated_gib)
    if peaks.reserved is not None:
        rows.append(
            "| measured peak reserved (largest `peak_reserved_bytes` of the steps) |"
            f" {_gib(peaks.reserved / GIB)} |"
        )
        rows += _difference("peak reserved", peaks.reserved, est.peak_reserved_gib)
    return rows


def _difference(what: str, measured: float | None, estimated: float) -> list[str]:
    if measured is None:
        return []
    diff = measured / GIB - estimated
    share = f" ({diff / estimated:+.0%})" if estimated else ""
    return [f"| difference (measured − estimated {what}) | {diff:+.2f}{share} |"]


def _card_note(est: Any) -> str:
    if est.gpu_gib is None:
        return (
            "The profile plans for the detected GPU ([hardware] gpu_memory_gib = 0), whose size"
            " the run did not record, so there is no verdict."
        )
    return (
        f"Card: {est.gpu_gib:g} GiB ({est.usable_gib:.2f} usable); the estimated total is"
        f" {est.total_gib / est.gpu_gib:.0%} of it; estimate verdict: {est.verdict}."
    )


def _measured_peaks(events: Sequence[dict[str, Any]]) -> _Peaks:
    """The largest allocated and reserved peaks of the step events; the device and the card
    (`gpu_total_bytes`, engines that record it) of the last start."""

    def largest(key: str) -> float | None:
        found = [_number(e.get(key)) for e in events if e.get("kind") == "step"]
        values = [v for v in found if v is not None]
        return max(values) if values else None

    starts = [e for e in events if e.get("kind") == "start" and isinstance(e.get("device"), str)]
    device = starts[-1]["device"] if starts else None
    card = _number(starts[-1].get("gpu_total_bytes")) if starts else None
    card_gib = round(card / GIB, 2) if card else None
    return _Peaks(largest("peak_mem_bytes"), largest("peak_reserved_bytes"), device, card_gib)


# -- retry ------------------------------------------------------------------------------


def retry_section(facts: RunFacts, doctor: Sequence[Finding] | None) -> list[str]:
    """The commands to run the same thing again, resume it, and what to fix first."""
    run, s = facts.run, facts.summary
    lines = ["## Retry", ""]
    if s.active:
        return [*lines, f"The run is still {s.status}; `cockpit stop {s.id}` stops it."]
    source = str(facts.meta.get("profile_source") or "")
    if source and Path(source).is_file():
        lines += [f"After editing your profile (`{source}`), start it again:", ""]
        lines += [*code_block(f"cockpit train {shlex.quote(source)}", "sh"), ""]
    if run.profile_file.is_file():
        lines += ["Exactly the same configuration again (the run's frozen profile):", ""]
        lines += [*code_block(f"cockpit train {shlex.quote(str(run.profile_file))}", "sh"), ""]
    checkpoint = newest_checkpoint(run.checkpoints)
    if checkpoint is not None and s.status != "finished":
        lines += [f"Resume from its last checkpoint ({checkpoint.name}):", ""]
        lines += [*code_block(f"cockpit train --resume {shlex.quote(s.id)}", "sh"), ""]
    command = facts.meta.get("command_text")
    if isinstance(command, str) and command:
        lines += ["The engine command as launched (from run.json, secrets redacted):", ""]
        lines += [*code_block(command, "sh"), ""]
    return [*lines, *fix_first(facts.scan, doctor, run.output)]


def newest_checkpoint(folder: Path) -> Path | None:
    """The checkpoint-N folder with the highest N, if any is left."""
    try:
        found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _match_dir(p))]
    except OSError:
        return None
    return max(found)[1] if found else None


def _match_dir(path: Path) -> re.Match[str] | None:
    return _CHECKPOINT_DIR.match(path.name) if path.is_dir() else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
