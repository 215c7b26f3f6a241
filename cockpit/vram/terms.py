"""The named terms of a training step's peak memory, in bytes, for one resolved plan.

A step has moments that do not overlap: the loss (all logits alive), the backward pass
through one recomputed layer, and for GRPO the generation. The saved activations live
through the first two. Every term is always listed, in a fixed order; terms of the
moments that are not the peak are listed at zero with a note, so the terms add up to the
peak and the names stay stable for the UI. GRPO's generation, completion log-probs,
reference model and vLLM are `cockpit.vram.grpo`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from cockpit.vram.activations import (
    LayerBytes,
    first_layer_discount,
    held_bytes,
    layer_bytes,
    outside_bytes,
    rope_bytes,
)
from cockpit.vram.lora import Shapes, matrix_shapes
from cockpit.vram.plan import Plan

GIB = 1024**3
NF4_BYTES = 0.5 + 1 / 64 + 4 / (64 * 256)
"""bitsandbytes NF4 with double quantization: 4-bit codes, an 8-bit absmax per 64 weights
and an fp32 scale per 256 absmax blocks."""
RECOMPUTE_FACTOR = {"peft": 1.5, "unsloth": 1.75}
"""A layer's backward holds its (recomputed) saved activations plus their gradients: this
many times what the layer saves (calibrated on the reference measurements)."""
ALLOCATOR_FRACTION = 0.05
"""PyTorch's caching allocator reserves about this share beyond the peak it hands out..."""
ALLOCATOR_FIXED_GIB = 0.25
"""...plus freed blocks it keeps from loading the model (largest shards and buffers)."""
_EIGHT_BIT_MIN = 4096
"""bitsandbytes keeps 32-bit optimizer state for tensors smaller than this."""
_NOT_AT_PEAK = "peaks at another moment of the step: not added"


@dataclass(frozen=True)
class Term:
    """One named part of the peak."""

    name: str
    label: str
    bytes: float
    note: str = ""

    @property
    def gib(self) -> float:
        return self.bytes / GIB


def weight_terms(plan: Plan) -> list[Term]:
    """The frozen (or trained) base weights, quantized or not."""
    spec = plan.spec
    if plan.quantization == "4bit":
        stored, kind = spec.linear_params * NF4_BYTES, "4-bit NF4 + quantization constants"
    elif plan.quantization == "8bit":  # int8 weights + an fp32 scale per output row
        rows = spec.num_layers * sum(m.out_features for m in spec.linears())
        stored, kind = spec.linear_params + 4.0 * rows, "8-bit LLM.int8 + row scales"
    else:
        stored, kind = spec.linear_params * plan.weight_bytes, f"{8 * plan.weight_bytes}-bit"
    upcast = plan.stack.kbit_fp32_upcast and plan.quantization != "none"
    rest = 4 if upcast or plan.weight_bytes == 4 else 2
    rest_kind = "fp32: k-bit upcast" if upcast else f"{8 * rest}-bit"
    other = (spec.embedding_params + spec.small_params) * rest
    return [
        Term("weights", f"weights: decoder linear layers ({kind})", stored),
        Term("embeddings", f"weights: embeddings, lm_head, norms ({rest_kind})", other),
    ]


def _param_shapes(plan: Plan) -> tuple[Shapes, int]:
    """Trainable 2-D shapes with their counts, and the count of trainable 1-D parameters."""
    spec, lora = plan.spec, plan.profile.lora
    if lora is not None:
        return matrix_shapes(spec, lora), 0
    shapes = [(m.out_features, m.in_features, spec.num_layers) for m in spec.linears()]
    heads = 1 if spec.tied_embeddings else 2
    return [*shapes, (spec.vocab_size, spec.hidden_size, heads)], spec.small_params


def optimizer_bytes(shapes: Shapes, flat: int, size: int, optimizer: str) -> float:
    """State bytes of `optimizer` for these parameters (`size` bytes each); `flat` is one
    tensor holding every trainable 1-D parameter."""
    counted = [(rows * cols, count) for rows, cols, count in shapes] + ([(flat, 1)] if flat else [])
    if optimizer in ("adamw", "paged_adamw"):
        return 2.0 * size * sum(n * count for n, count in counted)
    if optimizer in ("adamw_8bit", "paged_adamw_8bit"):  # + fp32 absmax per 256 per state
        return sum((2.03 * n if n >= _EIGHT_BIT_MIN else 8.0 * n) * c for n, c in counted)
    if optimizer == "adafactor":  # factored second moment, no first moment
        return 4.0 * (sum((rows + cols) * count for rows, cols, count in shapes) + flat)
    return 0.0  # sgd without momentum


def trainable_terms(plan: Plan, trainable: int) -> list[Term]:
    """LoRA adapters, gradients and optimizer state."""
    lora, optimizer = plan.profile.lora, plan.profile.train.optimizer
    size = plan.adapter_bytes if lora is not None else plan.weight_bytes
    shapes, flat = _param_shapes(plan)
    paged = " (paged: may spill to host RAM)" if optimizer.startswith("paged") else ""
    return [
        Term(
            "adapters",
            f"LoRA adapters ({8 * size}-bit)",
            trainable * size if lora is not None else 0.0,
        ),
        Term("gradients", f"gradients ({8 * size}-bit)", float(trainable * size)),
        Term(
            "optimizer",
            f"optimizer state: {optimizer}{paged}",
            optimizer_bytes(shapes, flat, size, optimizer),
        ),
    ]


def _logits_bytes(plan: Plan) -> float:
    tokens = plan.batch * plan.loss_seq * plan.spec.vocab_size
    if plan.backend != "unsloth":  # Gemma 2 soft-capping keeps tanh and its gradient
        softcap = 4.0 if plan.spec.model_type == "gemma2" else 0.0
        return (plan.stack.hf_loss_bytes + softcap) * tokens
    if not plan.stack.unsloth_fused_loss:  # 16-bit logits, fp32 copy, fp32 grad, 16-bit grad
        return 8.0 * tokens
    return min(8.0 * tokens, plan.stack.unsloth_loss_cap_gib * GIB)


def _without_checkpointing(plan: Plan, layer: LayerBytes) -> tuple[list[Term], list[Term]]:
    """(saved through the step, extra while backward runs through one layer)."""
    setup, tokens = plan.activations, plan.tokens
    layers = plan.spec.num_layers * tokens
    kept = layers * layer.core + outside_bytes(setup) * tokens + rope_bytes(setup, plan.seq)
    kept -= first_layer_discount(setup) * tokens
    saved = [
        Term("activations", "activations saved for backward (all layers)", kept),
        Term("lora_dropout", "LoRA dropout masks and copies", layers * layer.lora_dropout),
        Term("attention_scores", "eager attention s² scores", layers * layer.scores),
    ]
    extra = (RECOMPUTE_FACTOR[plan.backend] - 1) * layer.total * tokens
    return saved, [Term("recompute", "backward temporaries of one layer", extra)]


def _with_checkpointing(plan: Plan, layer: LayerBytes) -> tuple[list[Term], list[Term]]:
    """(layer inputs kept through the step, one layer recomputed with its gradients)."""
    setup, tokens = plan.activations, plan.tokens
    where = "host RAM (Unsloth offload)" if plan.checkpointing == "unsloth" else "VRAM"
    held = (held_bytes(setup, plan.checkpointing) + outside_bytes(setup)) * tokens
    per_token = RECOMPUTE_FACTOR[plan.backend] * tokens
    work = [
        Term(
            "recompute",
            "one layer recomputed in backward, with its gradients",
            per_token * layer.core,
        ),
        Term(
            "lora_dropout",
            "LoRA dropout masks and copies (one layer)",
            per_token * layer.lora_dropout,
        ),
        Term("attention_scores", "eager attention s² scores (one layer)", per_token * layer.scores),
    ]
    return [Term("activations", f"checkpointed layer inputs, kept in {where}", held)], work


def step_terms(plan: Plan) -> list[Term]:
    """Activations, recompute, logits and generation: the peak moment's terms."""
    layer = layer_bytes(plan.activations, plan.seq)
    moments = _without_checkpointing if plan.checkpointing == "off" else _with_checkpointing
    saved, work = moments(plan, layer)
    loss = [Term("logits", "logits and loss", _logits_bytes(plan))]
    from cockpit.vram import grpo  # lazy: grpo builds its terms from this module

    loss, gen = grpo.loss_terms(plan, loss), grpo.generation_terms(plan)
    return _at_peak(saved + loss, saved + work, gen)


_ORDER = (
    "activations",
    "lora_dropout",
    "attention_scores",
    "recompute",
    "logits",
    "generation_cache",
    "generation_work",
)


def _at_peak(*moments: list[Term]) -> list[Term]:
    peak = max(moments, key=lambda terms: sum(t.bytes for t in terms))
    chosen = {t.name: t for t in peak}
    every = {t.name: t for terms in moments for t in terms}
    out = []
    for name in _ORDER:
        if name in chosen:
            out.append(chosen[name])
        elif name in every:
            note = _NOT_AT_PEAK if every[name].bytes > 0 else ""
            out.append(replace(every[name], bytes=0.0, note=note))
    return out


def overhead_terms(plan: Plan, allocated: float) -> list[Term]:
    """Allocator cache and CUDA context, on top of the allocated peak."""
    return [
        Term(
            "allocator",
            "PyTorch allocator cache (reserved, not allocated)",
            ALLOCATOR_FRACTION * allocated + ALLOCATOR_FIXED_GIB * GIB,
        ),
        Term(
            "cuda_context",
            "CUDA context and kernels (outside PyTorch)",
            plan.stack.cuda_context_gib * GIB,
        ),
    ]
