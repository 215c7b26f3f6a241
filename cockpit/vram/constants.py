"""Every constant of the memory model that was fitted, with the points it was fitted on.

Three kinds of numbers live in the estimator:

- read from the libraries' source (bitsandbytes, PyTorch, transformers, Unsloth): they sit
  next to the code that uses them, with the file and function they come from, and are
  listed in `FROM_SOURCE`; nothing was tuned;
- fitted on the published measurements (tests/data/vram_references.py): only `Fitted`'s
  fields. `FITTED_ON` names the references each one moves; tests/unit/test_vram_references.py
  refits them on all references (they must come back to these values) and leave-one-source-
  out (fit without a source, score it), and prints in-sample and out-of-sample errors;
- checked by nothing (`UNCHECKED`): no reference measures them; said so here.

`BANDS` is the estimate's low-high range per kind of run, read off the out-of-sample
errors (the same test recomputes it and fails when it drifts from the data).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fitted:
    """The fitted constants (the estimator reads them through `Stack.fitted`)."""

    allocator_fraction: float = 0.09
    """PyTorch's caching allocator reserves about this share beyond the peak it hands out..."""
    allocator_fixed_gib: float = 0.0
    """...plus freed blocks it keeps from loading the model (largest shards and buffers)."""
    recompute_peft: float = 1.5
    """HF + PEFT: a layer's backward holds its (recomputed) saved activations plus their
    gradients: this many times what the layer saves."""
    recompute_unsloth: float = 1.7
    """The same under Unsloth's fused LoRA kernels."""

    def recompute(self, backend: str) -> float:
        return self.recompute_unsloth if backend == "unsloth" else self.recompute_peft


FITTED = Fitted()

_HF = "8B/70B Hugging Face + FA2 max context (Unsloth benchmarks, 7 points)"
_UNSLOTH_PEAKS = (
    "8B/70B Unsloth max context (Unsloth benchmarks, 9 points); "
    "notebooks TinyLlama and Llama-3.2-3B peak reserved"
)
_LOADS = "9 Unsloth notebooks' reserved memory after loading"
FITTED_ON: dict[str, str] = {
    "allocator_fraction": f"{_HF}; {_UNSLOTH_PEAKS}; {_LOADS}",
    "allocator_fixed_gib": f"{_HF}; {_UNSLOTH_PEAKS}; {_LOADS}",
    "recompute_peft": f"no reference identifies it ({_HF} all peak at the loss): its prior, 1.5",
    "recompute_unsloth": "notebook Llama-3.2-3B peak reserved; 8B/70B Unsloth max context",
}
"""Fitted constant -> the measurements it was fitted on (tests/data/vram_references.py)."""

FROM_SOURCE: dict[str, str] = {
    "NF4_BYTES": "bitsandbytes functional.quantize_4bit: 4-bit codes, absmax per 64, "
    "nested absmax per 256 (terms.py)",
    "LOSS_BYTES_PER_LOGIT": "transformers loss_utils.ForCausalLMLoss: logits.float() then "
    "cross_entropy (terms.py)",
    "dequantize buffers": "bitsandbytes autograd MatMul4Bit.backward / Unsloth "
    "kernels/utils.fast_dequantize (terms.py)",
    "Unsloth chunked loss": "unsloth_zoo fused_losses/cross_entropy_loss.get_chunk_size (terms.py)",
    "Unsloth offloaded checkpoints": "unsloth_zoo gradient_checkpointing (activations.py)",
}

UNCHECKED: dict[str, str] = {
    "cuda_context_gib": "CUDA context + cuBLAS workspaces (Stack.cuda_context_gib, 0.45 GiB): "
    "every reference measures PyTorch's reserved memory, which excludes it",
}

Kind = tuple[str, str, str]
"""(method: "lora" | "full", backend: "peft" | "unsloth", quantization)."""


@dataclass(frozen=True)
class Band:
    """Out-of-sample error range of one kind of run, as factors on the estimate."""

    low: float
    """The measurement can be as low as estimate x this (the estimate's worst over-shoot)."""
    high: float
    """...and as high as estimate x this (its worst under-shoot)."""
    points: int
    """Measurements it was read from (0: no measurement of this kind, the widest band)."""


MIN_HALF_WIDTH = 0.05
"""A band is never narrower than ±5 % (a handful of points say little about the tails)."""
BANDS: dict[Kind, Band] = {
    ("lora", "peft", "4bit"): Band(0.95, 1.31, 7),
    ("lora", "unsloth", "4bit"): Band(0.93, 1.12, 20),
}
"""Per kind: from the leave-one-source-out errors of tests/data/vram_references.py (HF QLoRA
is measured 15-24 % above the estimate out of sample: its high end is 1.31 x)."""
UNMEASURED = Band(0.93, 1.31, 0)
"""Kinds no reference measures (LoRA on 16-bit weights, 8-bit, full): the widest band."""


def band_for(kind: Kind) -> Band:
    """The band of `kind`, else the widest measured one."""
    return BANDS.get(kind, UNMEASURED)
