"""Synthetic run histories for the calibration tests: run folders as an engine leaves them.

`finished_run` writes a run directory (frozen profile.toml, run.json, events.jsonl) whose
last step measured `ratio` × what the estimator says for the profile today, on a named GPU.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tomli_w

from cockpit.vram.estimate import estimate
from engines.profile_schema import profile_from_dict

GIB = 1024**3
GPU = "NVIDIA GeForce RTX 3060"
SEED: dict[str, Any] = {
    "name": "seed",
    "model": {
        "name_or_path": "unsloth/Llama-3.2-3B-Instruct-bnb-4bit",
        "quantization": "4bit",
        "max_seq_length": 2048,
        "backend": "peft",
    },
    "lora": {"r": 16, "alpha": 16},
    "train": {
        "batch_size": 1,
        "grad_accum": 4,
        "gradient_checkpointing": "on",
        "optimizer": "adamw_8bit",
    },
}


def estimated_allocated_gib(raw: dict[str, Any] = SEED) -> float:
    return estimate(profile_from_dict(raw), suggest=False).peak_allocated_gib


def finished_run(
    root: Path,
    name: str,
    ratio: float,
    *,
    raw: dict[str, Any] = SEED,
    gpu: str = GPU,
    device: str = "cuda:0",
    status: str = "finished",
    t: float = 1_767_000_000.0,
    reserved_extra_gib: float = 0.4,
) -> Path:
    """A run folder whose peak allocated is `ratio` × today's estimate of `raw`."""
    run = root / name
    run.mkdir(parents=True)
    (run / "profile.toml").write_text(tomli_w.dumps(raw))
    (run / "run.json").write_text(json.dumps({"version": 1, "id": name, "created": t}))
    allocated = ratio * estimated_allocated_gib(raw) * GIB
    events = [
        {"t": t, "kind": "start", "device": device, "gpu_name": gpu, "backend": "peft"},
        {"t": t + 1, "kind": "step", "step": 1, "peak_mem_bytes": int(allocated) - 1000},
        {
            "t": t + 2,
            "kind": "step",
            "step": 2,
            "peak_mem_bytes": int(allocated),
            "peak_reserved_bytes": int(allocated + reserved_extra_gib * GIB),
        },
        {"t": t + 3, "kind": "end", "status": status, "steps_done": 2},
    ]
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return run


def history_of(root: Path, ratios: list[float], **kwargs: Any) -> Path:
    """One finished run per ratio under `root`."""
    for i, ratio in enumerate(ratios):
        finished_run(root, f"run-{i}", ratio, t=1_767_000_000.0 + 100 * i, **kwargs)
    return root
