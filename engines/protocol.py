"""Event schema + writer/reader — stdlib only; the ONE module cockpit imports from engines.

The run events are added by the issue that builds the engines. Until then this module
holds the numbers both sides must agree on: the tiny demo model is built by the engines
from ``TINY_LLAMA_CONFIG`` and estimated by ``cockpit.vram`` from the same dict.
"""

from __future__ import annotations

TINY_LLAMA_ID = "cockpit:tiny-llama"
"""The `name_or_path` that names the tiny demo model in a profile."""

TINY_LLAMA_CONFIG: dict[str, object] = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "intermediate_size": 128,
    "vocab_size": 1024,
    "max_position_embeddings": 512,
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-5,
}
"""A 2-layer Llama (grouped-query attention, ~0.2 M parameters) that trains on CPU in seconds."""
