"""Activation memory: what one decoder layer saves for backward, in bytes per token.

The per-tensor accounting was read off `python -m engines trace` (saved-tensor hooks on
the real transformers modules) and is checked against it in the tests. With 16-bit
activations a Llama-style layer under HF + PEFT saves, per token:

- each RMSNorm: its fp32 input copy (4h) and the fp32 rsqrt (4); a full fine-tune adds
  the 16-bit input of the weight multiply (2h);
- fused attention (SDPA / flash): q, k, v, output and the fp32 logsumexp; eager attention
  instead keeps repeated k/v, the output copy and the fp32 + 16-bit s x s scores;
- the gated MLP: gate out, activation out, up out (3 x 2i);
- the input of every LoRA group (shared by the modules that read it), LoRA-A outputs (2r
  each); PEFT's fp32 adapters under AMP give every module its own 16-bit input copy, and
  dropout > 0 gives every module a 1-byte mask plus the dropped copy.

Unsloth's fused kernels save less: RMSNorm keeps its 16-bit input, the LoRA QKV and MLP
kernels keep their input once plus gate and up, and recompute the rest in backward.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.vram.lora import LoraTargets
from cockpit.vram.specs import ModelSpec

_BASE_SAVED = frozenset({"attn_out"})
"""Groups whose input is saved anyway (the attention output, kept by the attention kernel)."""


@dataclass(frozen=True)
class ActivationSetup:
    """The settings that shape activation memory."""

    spec: ModelSpec
    targets: LoraTargets | None
    """None: a full fine-tune (every linear module trains)."""
    rank: int = 16
    dropout: bool = False
    amp_copies: bool = False
    """fp32 adapters under autocast: every LoRA module saves its own 16-bit input copy."""
    act_bytes: int = 2
    eager: bool = False
    unsloth: bool = False


@dataclass(frozen=True)
class LayerBytes:
    """Bytes one decoder layer saves per token, split the way the estimate shows them."""

    core: float
    lora_dropout: float
    scores: float
    """Eager attention's s x s scores (grows with the sequence length)."""

    @property
    def total(self) -> float:
        return self.core + self.lora_dropout + self.scores


def layer_bytes(setup: ActivationSetup, seq: int) -> LayerBytes:
    """Per-token bytes one decoder layer saves for backward."""
    spec, a = setup.spec, setup.act_bytes
    core = _norms(setup) + _attention(setup) + _mlp(setup) + _qk_norm(setup)
    scores = 0.0
    if setup.eager:
        per_score = a + 4 + (a if spec.model_type == "gemma2" else 0)  # softcap keeps tanh
        scores = spec.num_heads * seq * per_score
    lora_in, dropout = _linear_inputs(setup)
    return LayerBytes(core + lora_in, dropout, scores)


def _norms(setup: ActivationSetup) -> float:
    h, a = setup.spec.hidden_size, setup.act_bytes
    if setup.spec.layer_norm:
        one = a * h + 8  # input + fp32 mean and rstd
    elif setup.unsloth and setup.targets is not None:
        one = a * h + 4
    else:
        one = 4 * h + 4 + _norm_weight_input(setup) * h
    return setup.spec.norms_per_layer * one


def _norm_weight_input(setup: ActivationSetup) -> int:
    """Bytes per element a trainable RMSNorm weight saves (Gemma multiplies in fp32)."""
    if setup.targets is not None:
        return 0
    return 4 if setup.spec.model_type.startswith("gemma") else setup.act_bytes


def _qk_norm(setup: ActivationSetup) -> float:
    spec = setup.spec
    if not spec.qk_norm:
        return 0.0
    return (4 + _norm_weight_input(setup)) * (spec.q_dim + spec.kv_dim) + 4 * (
        spec.num_heads + spec.num_kv_heads
    )


def _attention(setup: ActivationSetup) -> float:
    spec, a = setup.spec, setup.act_bytes
    if setup.eager:  # q + repeated k, v + contiguous output copy
        return 4 * a * spec.q_dim
    return a * (2 * spec.q_dim + 2 * spec.kv_dim) + 4 * spec.num_heads


def _mlp(setup: ActivationSetup) -> float:
    spec, a = setup.spec, setup.act_bytes
    if not spec.gated_mlp:
        return 4 * a * spec.intermediate_size  # tanh-GELU written in Python ops
    if setup.unsloth and setup.targets is not None and not setup.dropout:
        return 2 * a * spec.intermediate_size  # gate and up; the product is recomputed
    return 3 * a * spec.intermediate_size


def _group_inputs(spec: ModelSpec) -> dict[str, int]:
    return {
        "attn_in": spec.hidden_size,
        "attn_out": spec.q_dim,
        "mlp_in": spec.hidden_size,
        "mlp_out": spec.intermediate_size,
    }


def _linear_inputs(setup: ActivationSetup) -> tuple[float, float]:
    """(inputs kept for weight gradients, LoRA dropout masks and copies) per token."""
    spec, a = setup.spec, setup.act_bytes
    sizes = _group_inputs(spec)
    shared = {"mlp_in"} if spec.model_type == "phi" else set()  # parallel attn + MLP
    if setup.targets is None:
        return sum(a * n for g, n in sizes.items() if g not in _BASE_SAVED | shared), 0.0
    counts: dict[str, int] = {}
    for module in setup.targets.layer_modules:
        counts[module.group] = counts.get(module.group, 0) + 1
    outs = a * setup.rank * len(setup.targets.layer_modules)  # LoRA-A outputs
    if setup.dropout:
        return outs, sum((a + 1) * sizes[g] * n for g, n in counts.items())
    if setup.amp_copies:
        return outs + sum(a * sizes[g] * n for g, n in counts.items()), 0.0
    if setup.unsloth:  # the fused LoRA kernels keep only the QKV and MLP inputs
        return sum(a * sizes[g] for g in {"attn_in", "mlp_in"} & set(counts)), 0.0
    kept = set(counts) - _BASE_SAVED - (shared if "attn_in" in counts else set())
    return outs + sum(a * sizes[g] for g in kept), 0.0


def outside_bytes(setup: ActivationSetup) -> float:
    """Per-token bytes saved outside the layers (final norm, labels; full fine-tune: lm_head
    input and embedding indices)."""
    spec, a = setup.spec, setup.act_bytes
    if spec.layer_norm:
        final = a * spec.hidden_size + 8
    elif setup.unsloth:
        final = a * spec.hidden_size + 4
    else:
        final = 4 * spec.hidden_size + 4
    extra = 0.0
    if setup.targets is None:  # lm_head input, embedding indices, RMSNorm weight input
        norm = 0 if spec.layer_norm else _norm_weight_input(setup)
        extra = a * spec.hidden_size + 8 + norm * spec.hidden_size
    return final + 8 + extra


def saved_logit_bytes(spec: ModelSpec) -> int:
    """Bytes per logit autograd keeps until backward: the fp32 log-softmax, plus Gemma 2's
    16-bit tanh output from its final logit soft-capping."""
    return 4 + (2 if spec.model_type == "gemma2" else 0)


def first_layer_discount(setup: ActivationSetup) -> float:
    """Per-token bytes layer 0 does not save (LoRA only): with frozen embeddings no gradient
    flows into its first norm, so the norm keeps nothing, nor do the dropouts after it."""
    if setup.targets is None:
        return 0.0
    spec, a = setup.spec, setup.act_bytes
    if spec.layer_norm:
        norm = a * spec.hidden_size + 8
    else:
        norm = (a if setup.unsloth else 4) * spec.hidden_size + 4
    if not setup.dropout:
        return norm
    masks = sum(1 for m in setup.targets.layer_modules if m.group == "attn_in")
    return norm + masks * spec.hidden_size


def rope_bytes(setup: ActivationSetup, seq: int) -> float:
    """The rotary cos/sin tables multiplied into q and k: one per sequence, not per token."""
    return 2 * setup.act_bytes * setup.spec.head_dim * seq


def held_bytes(setup: ActivationSetup, mode: str) -> float:
    """Per-token bytes checkpointing keeps between forward and backward (all layers)."""
    per_layer = setup.act_bytes * setup.spec.hidden_size
    if mode == "unsloth":
        # unsloth_zoo gradient_checkpointing.UnslothCheckpointFunction: layer inputs go to
        # pinned host buffers; on the GPU stay GPU_BUFFER (the one being brought back) and
        # the last layer's input, which is not offloaded (LAST_GC_INDEX); the second
        # buffer for double buffering is freed when free memory is short
        return 2 * per_layer
    return setup.spec.num_layers * per_layer
