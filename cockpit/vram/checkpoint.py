"""What a profile's checkpoints cost on disk, from the same parameter counts as its estimate.

A resumable checkpoint holds what the Trainer needs to go on: a LoRA run's adapter weights
plus the optimizer state, a full fine-tune's whole model plus the optimizer state (a few
small files besides: tokenizer, trainer state, RNG). Both parts are terms the VRAM estimate
already computes (adapters, weights + embeddings, optimizer), in the bytes they are held in,
which is how they are written. Shown where `save_steps` is set (the Profiles form) and by
`cockpit estimate`, so the cost of crash-resume is seen before the run. Pure, no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.vram.analytic import Estimate
from engines.profile_schema import TrainSection

_FULL_MODEL_TERMS = ("weights", "embeddings")


@dataclass(frozen=True)
class CheckpointSize:
    """The bytes of one checkpoint, by part."""

    weights_bytes: float
    """The adapter (LoRA) or the whole model (a full fine-tune)."""
    optimizer_bytes: float
    full_model: bool

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.optimizer_bytes

    @property
    def parts(self) -> str:
        """The parts, e.g. "adapter 93 MiB + optimizer 47 MiB"."""
        what = "the whole model" if self.full_model else "adapter"
        return (
            f"{what} {disk_size(self.weights_bytes)} + optimizer {disk_size(self.optimizer_bytes)}"
        )


def checkpoint_size(result: Estimate) -> CheckpointSize:
    """One checkpoint of the estimated profile (LoRA when the estimate has adapters)."""
    terms = {t.name: t.bytes for t in result.terms}
    adapters = terms.get("adapters", 0.0)
    full = adapters <= 0
    weights = sum(terms.get(name, 0.0) for name in _FULL_MODEL_TERMS) if full else adapters
    return CheckpointSize(weights, terms.get("optimizer", 0.0), full)


def disk_size(size: float) -> str:
    """Bytes as people read a folder's size: 317 KiB, 146 MiB, 2.9 GiB."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size / 1024:.0f} KiB"


def checkpoint_note(train: TrainSection, size: CheckpointSize) -> str:
    """What `save_steps` and `save_total_limit` cost for this profile, in one line that
    follows "checkpoints: "."""
    each = f"≈ {disk_size(size.total_bytes)}"
    if train.save_steps <= 0:
        return f"none, so a crash loses the whole run; one would take {each} ({size.parts})"
    every = f"every {train.save_steps} steps, {each} each ({size.parts})"
    if train.save_total_limit <= 0:
        return f"{every}; every one kept (save_total_limit = 0)"
    kept = train.save_total_limit
    total = disk_size(kept * size.total_bytes)
    return f"{every}; the newest {kept} kept: ≈ {total} on disk (+1 while saving)"
