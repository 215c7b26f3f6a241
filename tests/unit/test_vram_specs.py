"""Model specs: the catalog's numbers, id matching, local config.json, unknown models."""

from __future__ import annotations

import json

import pytest

from cockpit.vram.catalog import close_matches, entries, lookup, model_key
from cockpit.vram.resolve import resolve_model
from cockpit.vram.specs import UnknownModel, spec_from_config
from engines.protocol import TINY_LLAMA_CONFIG, TINY_LLAMA_ID

REQUIRED = [
    "Llama-2-7b",
    "Llama-2-13b",
    "Meta-Llama-3-8B",
    "Llama-3.1-8B",
    "Llama-3.1-70B",
    "Llama-3.2-1B",
    "Llama-3.2-3B",
    "Llama-3.3-70B",
    "Mistral-7B-v0.1",
    "Mistral-7B-v0.3",
    "Mistral-Nemo-Base-2407",
    "Mistral-Small-Instruct-2409",
    "Qwen2-7B",
    "Qwen2.5-0.5B",
    "Qwen2.5-1.5B",
    "Qwen2.5-3B",
    "Qwen2.5-7B",
    "Qwen2.5-14B",
    "Qwen2.5-32B",
    "Qwen2.5-Coder-1.5B",
    "Qwen2.5-Coder-7B",
    "Qwen3-0.6B",
    "Qwen3-1.7B",
    "Qwen3-4B",
    "Qwen3-8B",
    "Qwen3-14B",
    "gemma-2-2b",
    "gemma-2-9b",
    "gemma-3-1b",
    "gemma-3-4b",
    "gemma-3-12b",
    "phi-1_5",
    "Phi-3.5-mini-instruct",
    "phi-4",
    "SmolLM2-135M",
    "SmolLM2-360M",
    "SmolLM2-1.7B",
    "stablelm-3b-4e1t",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_the_catalog_covers_the_models_of_the_issue(name: str) -> None:
    assert lookup(name) is not None, name


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e.id)
def test_catalog_parameter_counts_match_the_model_cards(entry) -> None:
    assert entry.spec.params == pytest.approx(entry.published_params, rel=0.01)
    assert entry.source.startswith(("config.json of", "text_config in config.json of"))


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("unsloth/Llama-3.2-3B-Instruct-bnb-4bit", "meta-llama/Llama-3.2-3B"),
        ("UNSLOTH/META-LLAMA-3.1-8B-INSTRUCT-BNB-4BIT", "meta-llama/Llama-3.1-8B"),
        ("unsloth/mistral-7b-instruct-v0.3-bnb-4bit", "mistralai/Mistral-7B-v0.3"),
        ("Qwen/Qwen2.5-Coder-1.5B-Instruct", "Qwen/Qwen2.5-1.5B"),
        ("unsloth/Qwen3-14B-Base-unsloth-bnb-4bit", "Qwen/Qwen3-14B"),
        ("google/gemma-3-4b-it", "google/gemma-3-4b-pt"),
        ("meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-hf"),
        ("HuggingFaceTB/SmolLM2-360M-Instruct", "HuggingFaceTB/SmolLM2-360M"),
    ],
)
def test_hub_id_variants_find_the_same_entry(spelling: str, canonical: str) -> None:
    assert lookup(spelling).spec == lookup(canonical).spec


def test_the_matching_key_drops_org_packaging_and_variant_suffixes() -> None:
    assert model_key("unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit") == "llama-3.1-8b"
    assert model_key("mistralai/Mistral-7B-Instruct-v0.3") == "mistral-7b-v0.3"


def test_the_tiny_demo_model_comes_from_the_shared_engine_config() -> None:
    resolved = resolve_model(TINY_LLAMA_ID)
    assert resolved.spec.hidden_size == TINY_LLAMA_CONFIG["hidden_size"]
    assert resolved.spec.num_layers == TINY_LLAMA_CONFIG["num_hidden_layers"]
    assert resolved.spec.vocab_size == TINY_LLAMA_CONFIG["vocab_size"]
    assert "TINY_LLAMA_CONFIG" in resolved.source


def test_a_local_directory_is_read_from_its_config_json(tmp_path) -> None:
    config = {
        "model_type": "qwen2",
        "hidden_size": 896,
        "num_hidden_layers": 24,
        "num_attention_heads": 14,
        "num_key_value_heads": 2,
        "intermediate_size": 4864,
        "vocab_size": 151936,
        "tie_word_embeddings": True,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    resolved = resolve_model(str(tmp_path))
    assert resolved.spec.params == lookup("Qwen/Qwen2.5-0.5B").spec.params
    assert str(tmp_path) in resolved.source


def test_gemma3_multimodal_configs_use_their_text_config() -> None:
    text = dict(lookup("google/gemma-3-4b-pt").spec.hf_config())
    text.pop("model_type")
    outer = {"model_type": "gemma3", "text_config": text, "vision_config": {"hidden_size": 1152}}
    spec = spec_from_config(outer, "gemma-3-4b")
    assert spec.model_type == "gemma3_text"
    assert spec.params == lookup("google/gemma-3-4b-pt").spec.params


def test_a_directory_without_config_json_says_what_to_point_at(tmp_path) -> None:
    with pytest.raises(UnknownModel, match=r"has no config\.json"):
        resolve_model(str(tmp_path))


def test_a_missing_local_path_is_reported_as_a_path() -> None:
    with pytest.raises(UnknownModel, match="no directory"):
        resolve_model("./models/does-not-exist")


def test_an_unknown_hub_id_asks_for_a_local_config_and_lists_close_matches() -> None:
    with pytest.raises(UnknownModel) as caught:
        resolve_model("Qwen/Qwen2.5-72B-Instruct")
    message = str(caught.value)
    assert "local directory" in message and "config.json" in message
    assert "Qwen/Qwen2.5-7B" in message
    assert close_matches("llama-3.2-2b")[0].startswith("meta-llama/Llama-3.2")


def test_a_broken_config_json_is_an_unknown_model_not_a_crash(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UnknownModel, match="cannot read"):
        resolve_model(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(UnknownModel, match="hidden_size"):
        resolve_model(str(tmp_path))
