"""The named terms of a training step's peak memory, in bytes, for one resolved plan.

A step has moments that do not overlap: the loss (all logits alive), the backward pass
through one recomputed layer, and for GRPO the generation. The saved activations live
through the first two. Every term is always listed, in a fixed order; terms of the
moments that are not the peak are listed at zero with a note, so the terms add up to the
peak and the names stay stable for the UI. GRPO's generation, completion log-probs,
reference model and vLLM are `cockpit.vram.grpo`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from cockpit.vram.activations import (
    LayerBytes,
    first_layer_discount,
    held_bytes,
    layer_bytes,
    outside_bytes,
    rope_bytes,
)
from cockpit.vram.constants import FITTED
from cockpit.vram.lora import Shapes, matrix_shapes
from cockpit.vram.plan import Plan

GIB = 1024**3
NF4_BYTES = 0.5 + 1 / 64 + 4 / (64 * 256)
"""bitsandbytes NF4 with double quantization: 4-bit codes, an 8-bit absmax per 64 weights
and an fp32 scale per 256 absmax blocks."""
LOSS_BYTES_PER_LOGIT = 12.0
"""The loss peak per logit, read from transformers loss_utils.ForCausalLMLoss: the 16-bit
logits are upcast (`logits.float()`, 4 B) and F.cross_entropy keeps its fp32 log-softmax
(4 B); backward holds that, the fp32 gradient of it and the gradient of the upcast input
(4 + 4 + 4 B). unsloth_zoo's compute_fused_ce_loss does the same per chunk (its
`.float()` + cross_entropy under torch.func.grad_and_value)."""
ALLOCATOR_FRACTION = FITTED.allocator_fraction
"""The shipped allocator share (cockpit.vram.constants.FITTED), for readers of the totals."""
UNSLOTH_CHUNK_CAP_GIB = 4.0
"""unsloth_zoo fused_losses/cross_entropy_loss._get_chunk_multiplier: each chunk's fp32
logits stay under min(half the free memory, 4 GB)."""
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


def _logits_bytes(plan: Plan, free_gib: float | None) -> float:
    """The loss moment: all logits under HF, one chunk under today's Unsloth."""
    spec = plan.spec
    logits = plan.batch * plan.loss_seq * spec.vocab_size
    if plan.backend != "unsloth":  # Gemma 2 soft-capping keeps tanh and its gradient
        softcap = 4.0 if spec.model_type == "gemma2" else 0.0
        return (LOSS_BYTES_PER_LOGIT + softcap) * logits
    hidden_grad = 2.0 * plan.batch * plan.loss_seq * spec.hidden_size  # grad_inputs
    if plan.stack.unsloth_loss == "materialized":  # 16-bit logits, fp32 copy and grads
        return 8.0 * logits
    if plan.stack.unsloth_loss == "cce":  # Cut Cross-Entropy: logits never in memory
        return hidden_grad
    return LOSS_BYTES_PER_LOGIT * logits / unsloth_chunks(logits, free_gib) + hidden_grad


def unsloth_chunks(logits: int, free_gib: float | None) -> int:
    """unsloth_zoo get_chunk_size: fp32 logits split so a chunk stays under the target
    (half the free memory, at most 4 GB), rounded up to a multiple of 4."""
    target = UNSLOTH_CHUNK_CAP_GIB if free_gib is None else min(free_gib / 2, 4.0)
    exact = 4.0 * logits / GIB / max(target, 1e-3)
    return 1 if exact <= 1.0 else 4 * math.ceil(exact / 4 - 1e-9)


def dequantize_bytes(plan: Plan) -> tuple[float, float]:
    """(kept all run, transient in a layer's backward) for 4-bit weights.

    bitsandbytes autograd MatMul4Bit.backward dequantizes the weight to 16 bit for the
    input gradient (`F.dequantize_4bit(B, ctx.state).to(grad_output.dtype)`), and its
    forward does the same for training-sized batches (backends/cuda/ops.py gemm_4bit:
    dequant + F.linear); with nested quantization the fp32 absmax is dequantized too.
    Unsloth's kernels/utils.fast_dequantize keeps a global WEIGHT_BUFFER and ABSMAX_BUFFER
    the size of the largest weight for the forward (matmul_lora, use_global_buffer=True),
    and its fast_lora backward dequantizes each weight again into a fresh tensor.
    """
    if plan.quantization != "4bit":
        return 0.0, 0.0
    largest = max(m.out_features * m.in_features for m in plan.spec.linears())
    one = largest * plan.weight_bytes + largest / 64 * 4
    return (one if plan.backend == "unsloth" else 0.0), one


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
    extra = (plan.stack.fitted.recompute(plan.backend) - 1) * layer.total * tokens
    return saved, [Term("recompute", "backward temporaries of one layer", extra)]


def _with_checkpointing(plan: Plan, layer: LayerBytes) -> tuple[list[Term], list[Term]]:
    """(layer inputs kept through the step, one layer recomputed with its gradients)."""
    setup, tokens = plan.activations, plan.tokens
    where = "host RAM (Unsloth offload)" if plan.checkpointing == "unsloth" else "VRAM"
    held = (held_bytes(setup, plan.checkpointing) + outside_bytes(setup)) * tokens
    per_token = plan.stack.fitted.recompute(plan.backend) * tokens
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


def step_terms(plan: Plan, usable_gib: float | None = None, resident: float = 0.0) -> list[Term]:
    """Activations, recompute, logits and generation: the peak moment's terms.

    `usable_gib` and `resident` (weights and trainable state, bytes) give the free memory
    Unsloth's chunked loss sizes its chunks by.
    """
    layer = layer_bytes(plan.activations, plan.seq)
    moments = _without_checkpointing if plan.checkpointing == "off" else _with_checkpointing
    saved, work = moments(plan, layer)
    kept, transient = dequantize_bytes(plan)
    label = "4-bit weights dequantized to 16 bit"
    work.append(Term("dequantize", f"{label} (one layer's backward)", kept + transient))
    free = None
    if usable_gib is not None:
        held = resident + sum(t.bytes for t in saved) + kept
        reserved = held + allocator_bytes(plan, held)
        free = usable_gib - plan.stack.cuda_context_gib - reserved / GIB
    loss = [
        Term("logits", "logits and loss", _logits_bytes(plan, free)),
        Term("dequantize", f"{label} (Unsloth's kept buffer)", kept),
    ]
    from cockpit.vram import grpo  # lazy: grpo builds its terms from this module

    loss, gen = grpo.loss_terms(plan, loss), grpo.generation_terms(plan)
    return _at_peak(saved + loss, saved + work, gen)


_ORDER = (
    "activations",
    "lora_dropout",
    "attention_scores",
    "recompute",
    "dequantize",
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


def allocator_bytes(plan: Plan, allocated: float) -> float:
    """What PyTorch's caching allocator reserves beyond `allocated` (fitted constants)."""
    fitted = plan.stack.fitted
    return fitted.allocator_fraction * allocated + fitted.allocator_fixed_gib * GIB


def overhead_terms(plan: Plan, allocated: float) -> list[Term]:
    """Allocator cache and CUDA context, on top of the allocated peak."""
    return [
        Term(
            "allocator",
            "PyTorch allocator cache (reserved, not allocated)",
            allocator_bytes(plan, allocated),
        ),
        Term(
            "cuda_context",
            "CUDA context and kernels (outside PyTorch)",
            plan.stack.cuda_context_gib * GIB,
        ),
    ]
