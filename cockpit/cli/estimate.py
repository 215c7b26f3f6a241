"""`cockpit estimate PROFILE`: the estimate as an aligned table or JSON, with an exit code.

Exit codes: 0 fits (or no GPU to judge against), 3 tight, 4 won't fit, 2 invalid profile
or unknown model. The card is `--gpu-gib`, else the profile's hardware.gpu_memory_gib,
else the largest GPU detected. On the detected GPU the estimate is calibrated by the user's
past runs on it (`cockpit.vram.history`; "calibrated on N of your runs, residual x %"),
unless `--no-calibration`.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, TextIO

from cockpit.termsafe import safe
from cockpit.vram.analytic import Estimate
from cockpit.vram.calibration import History
from cockpit.vram.checkpoint import checkpoint_note, checkpoint_size
from cockpit.vram.estimate import estimate
from cockpit.vram.history import user_history
from cockpit.vram.specs import UnknownModel
from cockpit.vram.terms import GIB

EXIT_CODES = {"fits": 0, "no GPU": 0, "tight": 3, "won't fit": 4}
EXIT_INVALID = 2


def detected_gpu_gib() -> float | None:
    """Memory of the largest GPU NVML reports, in GiB; None without a GPU or driver."""
    from cockpit.hardware.sampler import gpu_memory_gib

    sizes = gpu_memory_gib()
    return max(sizes) if sizes else None


def detected_gpu_name() -> str | None:
    """The name of the largest GPU NVML reports (the one `detected_gpu_gib` measures)."""
    from cockpit.hardware.sampler import detected_gpu_traits

    cards = [t for t in detected_gpu_traits() if t.memory_gib]
    return max(cards, key=lambda t: t.memory_gib or 0).name if cards else None


def _card(gpu_gib: float | None, profile: Any) -> tuple[float | None, bool]:
    """(the card's GiB, whether it is the detected GPU)."""
    if gpu_gib:
        return gpu_gib, False
    if profile.hardware.gpu_memory_gib > 0:
        return profile.hardware.gpu_memory_gib, False
    detected = detected_gpu_gib()
    return detected, detected is not None


def _history(detected: bool, calibration: bool) -> History | None:
    """The user's runs on the detected GPU, when the estimate is for it and calibrating."""
    if not (detected and calibration):
        return None
    from cockpit.settings import apply_runs_dir, load_settings

    apply_runs_dir(load_settings()[0])  # the runs folder settings.toml names, as `runs` reads
    return user_history(detected_gpu_name())


def estimate_named(
    ref: str, gpu_gib: float | None, trace: bool, as_json: bool, calibration: bool = True
) -> int:
    """`cockpit estimate REF`: a profile file or a listed profile's name, estimated."""
    from cockpit.profiles.store import find_profile

    path = find_profile(ref)
    if path is None:
        print(
            f"cockpit estimate: no profile file or listed profile named {ref!r}"
            " (`cockpit profiles` lists them)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    return estimate_main(str(path), gpu_gib, trace, as_json, calibration=calibration)


def estimate_main(
    path: str,
    gpu_gib: float | None,
    trace: bool,
    as_json: bool,
    out: TextIO | None = None,
    *,
    calibration: bool = True,
) -> int:
    """Load, estimate and print one profile; returns the exit code."""
    from cockpit.profiles.store import load_profile_file
    from cockpit.profiles.validate import describe_problems

    out = out or sys.stdout
    if gpu_gib is not None and not (math.isfinite(gpu_gib) and gpu_gib > 0):
        print(
            f"cockpit estimate: --gpu-gib must be a finite number > 0, got {gpu_gib}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    loaded = load_profile_file(path)
    if loaded.profile is None:
        print(safe(loaded.error or describe_problems(loaded.problems)), file=sys.stderr)
        return EXIT_INVALID
    try:
        card, detected = _card(gpu_gib, loaded.profile)
        result = estimate(
            loaded.profile,
            card,
            history=_history(detected, calibration),
            lengths=_data_lengths(path),
        )
    except UnknownModel as exc:
        print(safe(f"cockpit estimate: {exc}"), file=sys.stderr)
        return EXIT_INVALID
    traced = _trace(path, loaded.profile.env.python) if trace else None
    size = checkpoint_size(result)
    saving = checkpoint_note(loaded.profile.train, size)
    if as_json:
        data = result.to_json() | ({"trace": traced} if trace else {})
        data["checkpoint"] = {"bytes": round(size.total_bytes), "note": saving}
        print(json.dumps(data, indent=2), file=out)
    else:
        text = format_estimate(result, loaded.profile.name, traced, checkpoints=saving)
        print(safe(text), file=out)
    return EXIT_CODES[result.verdict]


def _trace(path: str, python: str) -> dict[str, Any]:
    from cockpit.vram.trace_client import TraceFailed, trace_estimate

    try:
        return trace_estimate(path, python or None).raw
    except TraceFailed as exc:
        return {"error": str(exc)}


def _gib(value: float) -> str:
    return f"{value:6.2f} GiB"


def _data_lengths(path: str) -> dict | None:
    """The token lengths of the Data check's cached report, if `cockpit data` or the Data
    place made one for this data: the sequence-cut suggestion then says what it cuts."""
    from cockpit.runs.datacheck import cached_report

    report = cached_report(path)
    lengths = report.get("token_lengths") if report else None
    return lengths if isinstance(lengths, dict) else None


def format_estimate(
    result: Estimate,
    name: str,
    traced: dict[str, Any] | None = None,
    checkpoints: str = "",
) -> str:
    """The estimate as text: setup, the terms table, totals, verdict, suggestions, what the
    checkpoints cost on disk."""
    spec = result.model.spec
    lines = [
        f"{name}: {spec.name} ({spec.params / 1e9:.2f} B parameters; {result.model.source})",
        f"backend {result.backend}, {result.trainable_params:,} trainable parameters, "
        f"{result.tokens:,} tokens per forward pass",
        "",
    ]
    shown = [t for t in result.terms if t.bytes != 0]  # a calibration may be negative
    width = max(len(t.label) for t in shown)
    lines += [f"  {t.label:<{width}}  {_gib(t.gib)}" for t in shown]
    totals = (
        ("peak allocated (torch max_memory_allocated)", result.peak_allocated_gib),
        ("peak reserved (allocator cache included)", result.peak_reserved_gib),
        ("total (as nvidia-smi shows it)", result.total_gib),
    )
    lines.append(f"  {'─' * width}")
    lines += [f"  {label:<{width}}  {_gib(value)}" for label, value in totals]
    if result.calibration is not None:
        lines.append(f"  {result.calibration.text()}")
    lines += _verdict_lines(result)
    lines += [
        f"  {i}. {s.change}: {s.total_gib:.2f} GiB, {s.verdict}"
        for i, s in enumerate(result.suggestions, 1)
    ]
    lines += [f"checkpoints: {checkpoints}"] if checkpoints else []
    lines += [f"note: {n}" for n in result.notes]
    if traced is not None:
        lines += _trace_lines(traced)
    return "\n".join(lines)


def _verdict_lines(result: Estimate) -> list[str]:
    if result.usable_gib is None:
        return [
            "",
            "verdict: no GPU — no GPU detected and none given; plan for a card with "
            "--gpu-gib N (or hardware.gpu_memory_gib in the profile)",
        ]
    share = result.total_gib / result.usable_gib if result.usable_gib else float("inf")
    lines = [
        "",
        f"verdict: {result.verdict} — {share:.0%} of {result.usable_gib:.2f} GiB usable "
        f"(card {result.gpu_gib:.2f} GiB)",
        band_line(result),
    ]
    if result.suggestions:
        lines.append("suggestions (smallest change first):")
    return lines


def band_line(result: Estimate) -> str:
    """The low-high range and where it comes from: "fits" needs its high end."""
    points = result.band.points
    why = (
        f"the error measured on {points} published runs of this kind"
        if points
        else "no measurement of this kind of run: the widest measured error"
    )
    return (
        f"band: {result.low_gib:.2f}–{result.high_gib:.2f} GiB ({why}); "
        "fits means the high end is under the usable memory"
    )


def _trace_lines(traced: dict[str, Any]) -> list[str]:
    if "error" in traced:
        return [f"trace: failed: {traced['error']}"]
    return [
        "trace (meta device, python -m engines trace):",
        f"  trainable parameters {traced['trainable_params']:,} of {traced['params']:,}",
        f"  saved activations {traced['activations_off_bytes'] / GIB:.2f} GiB without "
        f"checkpointing, {traced['activations_on_bytes'] / GIB:.2f} GiB with",
        f"  traced in {traced['seconds']:.1f} s",
    ]
