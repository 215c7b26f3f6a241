"""`cockpit estimate PROFILE --probe [--steps K]`: the estimate beside K measured real steps.

The probe runs the profile's own trainer for K optimizer steps on the longest rows of its
data, under its training interpreter (`python -m engines probe`), and prints the measured
peaks (torch's allocated and reserved) beside the estimate's, allocated with allocated and
reserved with reserved, for the card it ran on. The measurement is appended to the
calibration records (`cockpit.vram.measurements`). Without a CUDA GPU it says so and exits 2.

Exit codes: 0 measured, 2 no CUDA GPU / invalid profile / the probe failed, 4 the steps ran
out of memory (the estimate said it would fit, or not: both are printed).
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from cockpit.termsafe import safe

EXIT_OK, EXIT_INVALID, EXIT_OOM = 0, 2, 4
NO_CUDA = (
    "cockpit estimate --probe: no CUDA GPU here — the probe trains real steps on an NVIDIA "
    "GPU; without one, use the estimate alone (without --probe) or --trace"
)
GIB = 1024**3


def _gpu_present() -> bool:
    from cockpit.hardware.sampler import gpu_memory_gib

    return bool(gpu_memory_gib())


def probe_named(
    ref: str, gpu_gib: float | None, steps: int, as_json: bool, out: TextIO | None = None
) -> int:
    """Resolve REF (a file or a listed name), probe it, print and record the result."""
    from cockpit.profiles.store import find_profile, load_profile_file
    from cockpit.profiles.validate import describe_problems

    out = out or sys.stdout
    if not _gpu_present():
        print(NO_CUDA, file=sys.stderr)
        return EXIT_INVALID
    path = find_profile(ref)
    if path is None:
        missing = f"cockpit estimate: no profile file or listed profile named {ref!r}"
        print(safe(missing), file=sys.stderr)
        return EXIT_INVALID
    loaded = load_profile_file(str(path))
    if loaded.profile is None:
        print(safe(loaded.error or describe_problems(loaded.problems)), file=sys.stderr)
        return EXIT_INVALID
    from cockpit.vram.probe_client import ProbeFailed, run_probe

    try:
        report = run_probe(path, loaded.profile.env.python or None, steps)
    except ProbeFailed as exc:
        print(NO_CUDA if exc.no_cuda else safe(f"cockpit estimate --probe: {exc}"), file=sys.stderr)
        return EXIT_INVALID
    return _show(loaded.profile, report, gpu_gib, as_json, out)


def _show(profile: Any, report: Any, gpu_gib: float | None, as_json: bool, out: TextIO) -> int:
    from cockpit.vram.estimate import estimate
    from cockpit.vram.measurements import append_measurement, measurement_record
    from cockpit.vram.specs import UnknownModel

    card = gpu_gib or report.raw.get("gpu_total_bytes", 0) / GIB or None
    try:
        result = estimate(profile, card, suggest=False)
    except UnknownModel as exc:
        print(safe(f"cockpit estimate: {exc}"), file=sys.stderr)
        return EXIT_INVALID
    record = measurement_record(profile, result, report.raw)
    where = None if report.out_of_memory else append_measurement(record)
    if as_json:
        data = {**record, "out_of_memory": report.out_of_memory, "recorded_in": str(where or "")}
        print(json.dumps(data, indent=2), file=out)
    else:
        print(safe(format_probe(profile.name, record, report, where)), file=out)
    return EXIT_OOM if report.out_of_memory else EXIT_OK


def _row(label: str, estimated: float, measured: float) -> str:
    error = f"{(estimated - measured) / measured:+.0%}" if measured > 0 else "—"
    return f"  {label:<16}{estimated:8.2f} GiB {measured:8.2f} GiB   estimate {error}"


def format_probe(name: str, record: dict[str, Any], report: Any, where: Any) -> str:
    """The measured peaks beside the estimate's, like with like."""
    raw = report.raw
    lines = [
        f"{name}: probe, {report.steps} steps on {record['gpu_name']} ({raw.get('backend')}, "
        f"{raw.get('precision')}), the {raw.get('rows')} longest rows "
        f"(≥ {raw.get('shortest_row_tokens')} tokens)",
        f"  {'':<16}{'estimate':>12} {'measured':>12}",
        _row("peak allocated", record["estimated_allocated_gib"], record["measured_allocated_gib"]),
        _row("peak reserved", record["estimated_reserved_gib"], record["measured_reserved_gib"]),
        f"  (the estimate's total, with the CUDA context: {record['estimate_gib']:.2f} GiB)",
    ]
    if report.out_of_memory:
        lines.append(f"out of memory: {raw.get('error', '')} — the peaks are a lower bound")
        lines.append("not recorded for calibration")
    else:
        lines.append(f"recorded for calibration in {where}")
    return "\n".join(lines)
