"""A profile resolved into what the memory model needs: backend, dtypes, LoRA, tokens.

"auto" settings are decided here, once, the way the engines decide them, and anything
the estimate had to assume is kept as a note for the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cockpit.vram.activations import ActivationSetup
from cockpit.vram.constants import FITTED, Fitted
from cockpit.vram.lora import LoraTargets, lora_targets
from cockpit.vram.specs import ModelSpec
from engines.profile_schema import GrpoSection, Profile


@dataclass(frozen=True)
class Stack:
    """Version-dependent behaviour of the training stack (defaults: what ships today:
    TRL >= 0.22, Unsloth >= 2025.8). `stack_for` picks it from installed versions."""

    kbit_fp32_upcast: bool = False
    """PEFT's prepare_model_for_kbit_training casts embeddings, lm_head and norms to fp32;
    TRL's SFTTrainer called it before 0.22 (trl/trainer/sft_trainer.py
    `_prepare_model_for_kbit_training`, removed in v0.22.0)."""
    unsloth_loss: str = "chunked"
    """How Unsloth computes the loss: "materialized" (all logits, before 2024.12), "cce"
    (Apple's Cut Cross-Entropy, no logits kept: 2024.12 to 2025.7), "chunked"
    (unsloth_zoo fused_losses, since 2025.8: fp32 logits in chunks sized to the free memory)."""
    cuda_context_gib: float = 0.45
    """CUDA context, kernels and cuBLAS workspaces: shown by nvidia-smi, outside PyTorch
    (checked by no reference: see constants.UNCHECKED)."""
    fitted: Fitted = FITTED
    """The fitted constants (tests refit them leaving one source out)."""


def _version(text: str | None) -> tuple[int, ...]:
    parts = []
    for piece in (text or "").split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def stack_for(versions: Mapping[str, str]) -> Stack:
    """The stack of these installed versions ({"trl": "0.12.1", "unsloth": "2024.10"});
    a package not named is taken to be current."""
    trl, unsloth = _version(versions.get("trl")), _version(versions.get("unsloth"))
    loss = "chunked"
    if unsloth and unsloth < (2024, 12):
        loss = "materialized"
    elif unsloth and unsloth < (2025, 8):
        loss = "cce"
    return Stack(kbit_fp32_upcast=bool(trl) and trl < (0, 22), unsloth_loss=loss)


DEFAULT_STACK = Stack()


@dataclass(frozen=True)
class Plan:
    """A profile's settings resolved for the memory model."""

    profile: Profile
    spec: ModelSpec
    stack: Stack
    backend: str
    """"peft" (HF transformers + PEFT + TRL) or "unsloth"."""
    checkpointing: str
    quantization: str
    weight_bytes: int
    """Bytes per unquantized weight and per activation element (2, or 4 for fp32)."""
    adapter_bytes: int
    """Bytes per LoRA parameter (fp32 unless TRL casts QLoRA adapters to bf16)."""
    activations: ActivationSetup
    seq: int
    """Tokens per sequence in the training pass."""
    loss_seq: int
    """Tokens per sequence that reach the loss (GRPO: the completion only)."""
    notes: tuple[str, ...] = ()

    @property
    def batch(self) -> int:
        return self.profile.train.batch_size

    @property
    def tokens(self) -> int:
        return self.batch * self.seq


def _backend(profile: Profile, notes: list[str]) -> tuple[str, str]:
    backend = profile.model.backend
    ckpt = profile.train.gradient_checkpointing
    if backend == "auto":  # only Unsloth has "unsloth" checkpointing
        backend = "unsloth" if ckpt == "unsloth" else "peft"
        if backend == "unsloth":
            notes.append(
                'backend "auto" with unsloth checkpointing: estimated for Unsloth '
                "(without it installed, HF + PEFT needs more)"
            )
    if ckpt == "unsloth" and backend != "unsloth":
        notes.append(
            'gradient_checkpointing = "unsloth" needs the Unsloth backend: '
            "estimated as plain checkpointing"
        )
        ckpt = "on"
    return backend, ckpt


def _sequence(profile: Profile) -> tuple[int, int]:
    if profile.engine == "grpo":
        grpo = profile.grpo or GrpoSection()
        return grpo.max_prompt_length + grpo.max_completion_length, grpo.max_completion_length
    return profile.model.max_seq_length, profile.model.max_seq_length


def _lora_targets(profile: Profile, spec: ModelSpec, notes: list[str]) -> LoraTargets | None:
    if profile.lora is None:
        return None
    targets = lora_targets(spec, profile.lora.target_modules)
    if targets.unknown:
        notes.append(
            f"no module named {', '.join(targets.unknown)} in {spec.name}; LoRA "
            f"targets {', '.join(targets.names) or 'nothing'}"
        )
    return targets


def _shape_notes(profile: Profile, spec: ModelSpec, seq: int, notes: list[str]) -> None:
    if profile.hardware.gpus != 1:
        notes.append("per GPU: with data parallelism each GPU holds a full replica")
    if seq > spec.max_position:
        notes.append(f"{seq} tokens is longer than the model's {spec.max_position} positions")


def make_plan(profile: Profile, spec: ModelSpec, stack: Stack = DEFAULT_STACK) -> Plan:
    """Resolve one profile for `spec`."""
    notes: list[str] = []
    backend, ckpt = _backend(profile, notes)
    lora, quant = profile.lora, profile.model.quantization
    if lora is None and quant != "none":
        notes.append("a full fine-tune cannot train quantized weights: estimated unquantized")
        quant = "none"
    weight_bytes = 4 if profile.model.dtype == "fp32" else 2
    # PEFT keeps adapters in fp32; TRL casts QLoRA adapters to bf16; Unsloth upcasts them.
    fp32_adapters = weight_bytes == 4 or backend == "unsloth" or quant == "none"
    dropout = bool(lora and lora.dropout > 0)
    setup = ActivationSetup(
        spec=spec,
        targets=_lora_targets(profile, spec, notes),
        rank=lora.r if lora else 0,
        dropout=dropout,
        amp_copies=fp32_adapters and weight_bytes == 2 and backend == "peft",
        act_bytes=weight_bytes,
        eager=profile.model.attn_implementation == "eager",
        unsloth=backend == "unsloth" and not dropout,
    )
    seq, loss_seq = _sequence(profile)
    _shape_notes(profile, spec, seq, notes)
    adapter_bytes = 4 if fp32_adapters else 2
    return Plan(
        profile,
        spec,
        stack,
        backend,
        ckpt,
        quant,
        weight_bytes,
        adapter_bytes,
        setup,
        seq,
        loss_seq,
        tuple(notes),
    )
