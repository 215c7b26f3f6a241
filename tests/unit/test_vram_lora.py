"""LoRA's trainable count from module shapes equals what PEFT creates on the real model.

Each architecture is built from its catalog config on the meta device (no weights), PEFT
adds LoRA, and the parameters that require grad are counted, as PEFT's
print_trainable_parameters does.
"""

from __future__ import annotations

import pytest

from cockpit.vram.catalog import lookup
from cockpit.vram.lora import lora_params, lora_targets
from engines.profile_schema import LoraSection

CASES = [
    ("meta-llama/Llama-3.2-1B", "all-linear"),
    ("meta-llama/Llama-3.2-3B", "all-linear"),
    ("Qwen/Qwen2.5-0.5B-Instruct", "all-linear"),
    ("mistralai/Mistral-7B-v0.3", "all-linear"),
    ("mistralai/Mistral-7B-v0.3", ("q_proj", "v_proj")),
    ("google/gemma-2-2b-it", "all-linear"),
    ("microsoft/Phi-3.5-mini-instruct", "all-linear"),
    ("microsoft/Phi-3.5-mini-instruct", ("qkv_proj", "o_proj")),
    ("Qwen/Qwen3-0.6B", ("q_proj", "k_proj", "v_proj", "o_proj", "lm_head")),
    ("microsoft/phi-1_5", "all-linear"),
]


def _peft_count(name: str, targets: str | tuple[str, ...], r: int) -> int:
    # imported here, not at collection (seconds); skipped without the training stack
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("peft")
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    config = dict(lookup(name).spec.hf_config())
    model_type = config.pop("model_type")
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **config))
    lora = LoraConfig(r=r, target_modules=targets if isinstance(targets, str) else list(targets))
    peft_model = get_peft_model(model, lora)
    return sum(p.numel() for p in peft_model.parameters() if p.requires_grad)


@pytest.mark.parametrize(("name", "targets"), CASES)
def test_lora_count_equals_peft(name: str, targets: str | tuple[str, ...]) -> None:
    spec = lookup(name).spec
    assert lora_params(spec, LoraSection(r=16, target_modules=targets)) == _peft_count(
        name, targets, 16
    )


def test_grouped_query_attention_makes_k_and_v_adapters_smaller() -> None:
    spec = lookup("meta-llama/Llama-3.2-3B").spec  # 24 query heads, 8 key/value heads
    count = {
        n: lora_params(spec, LoraSection(r=8, target_modules=(n,))) for n in ("q_proj", "k_proj")
    }
    assert count["q_proj"] == 28 * 8 * (3072 + 3072)
    assert count["k_proj"] == 28 * 8 * (3072 + 1024)


def test_unknown_target_names_are_reported_not_counted() -> None:
    spec = lookup("microsoft/Phi-3.5-mini-instruct").spec
    targets = lora_targets(spec, ("q_proj", "o_proj"))
    assert targets.unknown == ("q_proj",)
    assert [m.name for m in targets.layer_modules] == ["o_proj"]
