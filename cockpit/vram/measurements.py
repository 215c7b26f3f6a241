"""Measured peaks beside their estimate, one JSON object per line: what calibration learns from.

`cockpit estimate --probe` (source "probe") and the GPU truth kit (tests/gpu, source
"truth-kit") append here; `cockpit.vram.history` reads the file back as calibration
samples. One record (`measurement_record`), every size in GiB:

    {"source": "probe", "id": "probe-1767000000-qwen-grpo", "t": 1767000000.0,
     "when": "2026-01-01T09:20:00+00:00", "profile": "qwen-grpo",
     "gpu_name": "NVIDIA GeForce RTX 3060", "backend": "peft", "method": "lora",
     "quantization": "none", "versions": {"torch": "2.9.0", "transformers": "5.25.0"},
     "steps": 3, "estimate_gib": 5.9, "estimated_allocated_gib": 5.1,
     "estimated_reserved_gib": 5.5, "measured_allocated_gib": 5.4,
     "measured_reserved_gib": 5.8}

`estimate_gib` is the estimate's total (what nvidia-smi would show); the calibration
compares allocated with allocated and reserved with reserved. Pure Python, no torch.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engines.profile_schema import Profile

PROBE_FILE = "vram-measurements.jsonl"
MEASUREMENTS_ENV = "COCKPIT_VRAM_MEASUREMENTS"
"""Overrides the file (tests, the truth kit writing into the repository)."""
SOURCES = ("probe", "truth-kit")


def measurements_path() -> Path:
    """`$COCKPIT_VRAM_MEASUREMENTS`, else vram-measurements.jsonl in the runs folder."""
    override = os.environ.get(MEASUREMENTS_ENV)
    if override:
        return Path(override).expanduser()
    from cockpit.paths import runs_root  # platformdirs: not needed by the GPU truth kit

    return runs_root() / PROBE_FILE


def method_of(profile: Profile) -> str:
    """ "full" without LoRA, "qlora" with LoRA on quantized weights, else "lora"."""
    if profile.lora is None:
        return "full"
    return "qlora" if profile.model.quantization != "none" else "lora"


def _gib(value: float) -> float:
    return round(float(value), 4)


def measurement_record(
    profile: Profile,
    estimate: Any,
    measured: dict[str, Any],
    *,
    source: str = "probe",
    now: float | None = None,
) -> dict[str, Any]:
    """The JSONL object for one measurement.

    `estimate` is a `cockpit.vram.analytic.Estimate` (its backend, allocated, reserved and
    total); `measured` is what the engine reported: `allocated_bytes`, `reserved_bytes`,
    `gpu_name`, `versions`, `steps`.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    now = time.time() if now is None else now
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", profile.name).strip("-") or "profile"
    return {
        "source": source,
        "id": f"{source}-{int(now)}-{slug}",
        "t": now,
        "when": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
        "profile": profile.name,
        "gpu_name": str(measured.get("gpu_name", "")),
        "backend": estimate.backend,
        "method": method_of(profile),
        "quantization": profile.model.quantization if profile.lora is not None else "none",
        "versions": {str(k): str(v) for k, v in dict(measured.get("versions", {})).items()},
        "steps": int(measured.get("steps", 0)),
        "estimate_gib": _gib(estimate.total_gib),
        "estimated_allocated_gib": _gib(estimate.peak_allocated_gib),
        "estimated_reserved_gib": _gib(estimate.peak_reserved_gib),
        "measured_allocated_gib": _gib(measured["allocated_bytes"] / 1024**3),
        "measured_reserved_gib": _gib(measured["reserved_bytes"] / 1024**3),
    }


def append_measurement(record: dict[str, Any], path: Path | None = None) -> Path:
    """Append one record as a line (the folder is made when missing); returns the file."""
    path = measurements_path() if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as handle:  # one write: lines never interleave
        handle.write(line)
    return path
