"""Model architecture numbers: a ModelSpec from a config dict (config.json, the catalog).

Everything the estimator needs about a model is a ``ModelSpec``: sizes, the shapes of
each decoder layer's linear modules (which LoRA targets), and the family traits that
change memory (fused projections, extra norms, a non-gated MLP). Pure data, no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

# HF model_type -> traits that differ from a Llama-style decoder.
_TRAITS: dict[str, dict[str, Any]] = {
    "llama": {},
    "mistral": {},
    "qwen2": {"qkv_bias": True},
    "qwen3": {"qk_norm": True},
    "gemma": {"tied": True},
    "gemma2": {"tied": True, "norms_per_layer": 4},
    "gemma3_text": {"tied": True, "norms_per_layer": 4, "qk_norm": True},
    "phi3": {"fused": True},
    "phi": {"plain_mlp": True, "layer_norm": True, "norms_per_layer": 1, "bias": True},
    "stablelm": {"layer_norm": True},
}
_TEXT_WRAPPERS = {"gemma3": "gemma3_text"}


class UnknownModel(Exception):
    """The model cannot be resolved; the message says what to do instead."""


@dataclass(frozen=True)
class Linear:
    """One linear module of a decoder layer, as LoRA sees it."""

    name: str
    in_features: int
    out_features: int
    group: str
    """Which activation it reads: attn_in, attn_out, mlp_in or mlp_out."""


@dataclass(frozen=True)
class ModelSpec:
    """A decoder-only transformer's shape (the numbers of its config.json)."""

    name: str
    model_type: str
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tied_embeddings: bool
    max_position: int
    fused_projections: bool = False
    """Phi-3 style: one qkv_proj and one gate_up_proj."""
    gated_mlp: bool = True
    """False for Phi-1.5's fc1 -> GELU -> fc2."""
    qkv_bias: bool = False
    linear_bias: bool = False
    layer_norm: bool = False
    """LayerNorm (weight + bias) instead of RMSNorm."""
    norms_per_layer: int = 2
    qk_norm: bool = False

    @property
    def q_dim(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.num_kv_heads * self.head_dim

    def linears(self) -> tuple[Linear, ...]:
        """The linear modules of one decoder layer, with their PEFT names."""
        h, i, q, kv = self.hidden_size, self.intermediate_size, self.q_dim, self.kv_dim
        if self.model_type == "phi":
            return (
                Linear("q_proj", h, q, "attn_in"),
                Linear("k_proj", h, kv, "attn_in"),
                Linear("v_proj", h, kv, "attn_in"),
                Linear("dense", q, h, "attn_out"),
                Linear("fc1", h, i, "mlp_in"),
                Linear("fc2", i, h, "mlp_out"),
            )
        if self.fused_projections:
            return (
                Linear("qkv_proj", h, q + 2 * kv, "attn_in"),
                Linear("o_proj", q, h, "attn_out"),
                Linear("gate_up_proj", h, 2 * i, "mlp_in"),
                Linear("down_proj", i, h, "mlp_out"),
            )
        return (
            Linear("q_proj", h, q, "attn_in"),
            Linear("k_proj", h, kv, "attn_in"),
            Linear("v_proj", h, kv, "attn_in"),
            Linear("o_proj", q, h, "attn_out"),
            Linear("gate_proj", h, i, "mlp_in"),
            Linear("up_proj", h, i, "mlp_in"),
            Linear("down_proj", i, h, "mlp_out"),
        )

    @property
    def linear_params(self) -> int:
        """Weights of all decoder linear modules (what 4-bit quantization applies to)."""
        return self.num_layers * sum(m.in_features * m.out_features for m in self.linears())

    @property
    def embedding_params(self) -> int:
        """Input embeddings plus the lm_head when it is not tied to them."""
        return self.vocab_size * self.hidden_size * (1 if self.tied_embeddings else 2)

    @property
    def small_params(self) -> int:
        """Norms and biases: never quantized."""
        norm = self.hidden_size * (2 if self.layer_norm else 1)
        per_layer = self.norms_per_layer * norm + (2 * self.head_dim if self.qk_norm else 0)
        if self.linear_bias:
            per_layer += sum(m.out_features for m in self.linears())
        elif self.qkv_bias:
            per_layer += self.q_dim + 2 * self.kv_dim
        return self.num_layers * per_layer + norm

    @property
    def params(self) -> int:
        return self.linear_params + self.embedding_params + self.small_params

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"params": self.params}

    def hf_config(self) -> dict[str, Any]:
        """A config.json that rebuilds this architecture with transformers (for --trace)."""
        return {
            "model_type": self.model_type,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "num_key_value_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "intermediate_size": self.intermediate_size,
            "vocab_size": self.vocab_size,
            "tie_word_embeddings": self.tied_embeddings,
            "max_position_embeddings": self.max_position,
        }


@dataclass(frozen=True)
class ResolvedModel:
    """A spec and where its numbers came from ("config.json at …", "catalog: …")."""

    spec: ModelSpec
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, **self.spec.to_json()}


_LIMITS = {
    "num_hidden_layers": 10_000,
    "n_layer": 10_000,
    "hidden_size": 1_000_000,
    "n_embd": 1_000_000,
    "d_model": 1_000_000,
    "vocab_size": 100_000_000,
}
"""Sizes no real model comes near: a config.json above them is damaged or hostile (a billion
layers would make every layer-sized number meaningless)."""
_DEFAULT_LIMIT = 100_000_000
"""For the other sizes read (heads, head_dim, intermediate size, positions)."""
MAX_PARAMS = 10**14
"""No trainable model has more parameters than this (the largest today have ~2 * 10^12)."""


def _check_limit(key: str, value: object, where: str) -> None:
    """Refuse a number far beyond any real model, naming the key and the value read."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    limit = _LIMITS.get(key, _DEFAULT_LIMIT)
    if value > limit:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        raise UnknownModel(
            f"{where} says {key} = {shown}; that is not a real model (no model has more "
            f"than {limit:,}) — check the file"
        )


def _int(
    config: dict[str, Any], *keys: str, default: int | None = None, where: str = "config.json"
) -> int:
    for key in keys:
        value = config.get(key)
        _check_limit(key, value, where)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    if default is None:
        raise UnknownModel(f"{where} has no usable {keys[0]!r}")
    return default


def _check_params(spec: ModelSpec, where: str) -> ModelSpec:
    if spec.params > MAX_PARAMS:
        raise UnknownModel(
            f"{where} describes a model of {spec.params:.3g} parameters; that is not a "
            f"real model (no model has more than {MAX_PARAMS:.0e}) — check the file"
        )
    return spec


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The language model part of a config (multimodal configs nest it under text_config)."""
    nested = config.get("text_config")
    if not isinstance(nested, dict):
        return config
    merged = dict(nested)
    outer = str(config.get("model_type", ""))
    merged.setdefault("model_type", _TEXT_WRAPPERS.get(outer, f"{outer}_text"))
    merged.setdefault("tie_word_embeddings", config.get("tie_word_embeddings", True))
    return merged


def spec_from_config(config: dict[str, Any], name: str, where: str = "config.json") -> ModelSpec:
    """A spec from config.json values; unknown decoder types are read as Llama-style.

    Raises ``UnknownModel`` for a missing size or one far beyond any real model."""
    config = text_config(config)
    size = partial(_int, config, where=where)
    model_type = str(config.get("model_type", "llama"))
    traits = _TRAITS.get(model_type, {})
    hidden = size("hidden_size", "n_embd", "d_model")
    heads = size("num_attention_heads", "n_head")
    tied = config.get("tie_word_embeddings", traits.get("tied", False))
    spec = ModelSpec(
        name=name,
        model_type=model_type,
        hidden_size=hidden,
        num_layers=size("num_hidden_layers", "n_layer"),
        num_heads=heads,
        num_kv_heads=size("num_key_value_heads", default=heads),
        head_dim=size("head_dim", default=hidden // heads),
        intermediate_size=size("intermediate_size", "n_inner", default=4 * hidden),
        vocab_size=size("vocab_size"),
        tied_embeddings=bool(tied),
        max_position=size("max_position_embeddings", "n_positions", default=2048),
        fused_projections=traits.get("fused", False),
        gated_mlp=not traits.get("plain_mlp", False),
        qkv_bias=bool(config.get("attention_bias", traits.get("qkv_bias", False))),
        linear_bias=traits.get("bias", False),
        layer_norm=traits.get("layer_norm", False),
        norms_per_layer=traits.get("norms_per_layer", 2),
        qk_norm=traits.get("qk_norm", False),
    )
    return _check_params(spec, where)
