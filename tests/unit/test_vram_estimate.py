"""The analytic estimate: its terms, totals, verdicts and JSON, as a user would read them."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.vram.analytic import TIGHT_FROM, verdict_for
from cockpit.vram.estimate import estimate
from cockpit.vram.plan import Stack
from engines.profile_schema import (
    GrpoSection,
    HardwareSection,
    LoraSection,
    ModelSection,
    Profile,
    TrainSection,
)

SEED_MODEL = "unsloth/Llama-3.2-3B-Instruct-bnb-4bit"
JSON_KEYS = {
    "total_gib",
    "peak_allocated_gib",
    "peak_reserved_gib",
    "gpu_gib",
    "usable_gib",
    "fits",
    "verdict",
    "breakdown",
    "suggestions",
    "model",
}


def profile(model: str = SEED_MODEL, **changes) -> Profile:
    """A QLoRA profile like the 4 GB seed; keyword changes use dotted names with '__'."""
    base = Profile(
        name="t",
        model=ModelSection(model, quantization="4bit", max_seq_length=2048),
        lora=LoraSection(r=16),
        train=TrainSection(
            batch_size=1, grad_accum=4, gradient_checkpointing="unsloth", optimizer="adamw_8bit"
        ),
    )
    for key, value in changes.items():
        section, field = key.split("__")
        table = getattr(base, section)
        base = dataclasses.replace(base, **{section: dataclasses.replace(table, **{field: value})})
    return base


def gib(p: Profile, card: float | None = 24.0, **kw) -> float:
    return estimate(p, card, suggest=False, **kw).total_gib


def test_terms_add_up_to_the_three_totals() -> None:
    result = estimate(profile(), 4.0)
    parts = result.breakdown()
    assert sum(parts.values()) == pytest.approx(result.total_gib, abs=1e-3)
    assert result.peak_reserved_gib == pytest.approx(
        result.total_gib - parts["cuda_context"], abs=1e-3
    )
    assert result.peak_allocated_gib == pytest.approx(
        result.peak_reserved_gib - parts["allocator"], abs=1e-3
    )
    assert result.peak_allocated_gib < result.peak_reserved_gib < result.total_gib


def test_json_has_the_documented_keys_and_is_serialisable() -> None:
    data = json.loads(json.dumps(estimate(profile(), 4.0).to_json()))
    assert set(data) >= JSON_KEYS
    assert data["model"]["source"].startswith("catalog:")
    assert data["model"]["hidden_size"] == 3072
    assert data["verdict"] in ("fits", "tight", "won't fit")
    assert all({"change", "total_gib", "edits"} <= set(s) for s in data["suggestions"])


def test_the_4gb_seed_configuration_is_not_reported_as_wont_fit() -> None:
    result = estimate(profile(), 4.0)
    assert result.verdict in ("fits", "tight")
    assert result.fits


def test_verdict_thresholds() -> None:
    assert verdict_for(8.0, 10.0) == "fits"
    assert verdict_for(TIGHT_FROM * 10.0, 10.0) == "tight"
    assert verdict_for(10.0, 10.0) == "tight"
    assert verdict_for(10.01, 10.0) == "won't fit"
    assert verdict_for(1.0, None) == "no GPU"


def test_without_a_card_the_verdict_is_no_gpu() -> None:
    result = estimate(profile(), None)
    assert result.verdict == "no GPU" and result.usable_gib is None and not result.suggestions


def test_the_profile_card_and_reserve_set_the_usable_memory() -> None:
    p = profile(hardware__gpu_memory_gib=8.0, hardware__reserve_gib=1.5)
    result = estimate(p, None)
    assert (result.gpu_gib, result.usable_gib) == (8.0, 6.5)
    assert estimate(p, 12.0).usable_gib == 10.5  # --gpu-gib wins over the profile


def test_quantization_shrinks_the_weights() -> None:
    sizes = {
        q: gib(profile(model__quantization=q, train__gradient_checkpointing="on"))
        for q in ("none", "8bit", "4bit")
    }
    assert sizes["4bit"] < sizes["8bit"] < sizes["none"]
    weights = estimate(profile(), 24.0).breakdown()["weights"]
    assert weights == pytest.approx(2.818e9 * (0.5 + 1 / 64 + 4 / 16384) / 2**30, rel=0.01)


def test_checkpointing_off_on_unsloth_each_save_memory() -> None:
    off, on, offload = (
        gib(
            profile(
                model__backend="unsloth",
                train__gradient_checkpointing=c,
                model__max_seq_length=8192,
            )
        )
        for c in ("off", "on", "unsloth")
    )
    assert offload < on < off


def test_eager_attention_adds_a_term_that_grows_with_the_square_of_the_sequence() -> None:
    def scores(seq: int) -> float:
        p = profile(
            model__attn_implementation="eager",
            model__backend="peft",
            train__gradient_checkpointing="off",
            model__max_seq_length=seq,
        )
        return estimate(p, 80.0, suggest=False).breakdown()["attention_scores"]

    assert scores(2048) == pytest.approx(4 * scores(1024), rel=0.01)
    assert estimate(profile(), 80.0).breakdown()["attention_scores"] == 0


def test_lora_dropout_adds_masks_and_copies() -> None:
    def dropout_term(value: float) -> float:
        p = profile(lora__dropout=value, model__backend="peft", train__gradient_checkpointing="off")
        return estimate(p, 80.0, suggest=False).breakdown()["lora_dropout"]

    assert dropout_term(0.0) == 0 and dropout_term(0.1) > 0


def test_a_large_vocabulary_makes_the_logits_a_large_term_under_hf() -> None:
    hf = dict(model__backend="peft", train__gradient_checkpointing="on")
    llama3 = estimate(profile(**hf), 24.0).breakdown()  # 128k vocabulary
    mistral = estimate(profile("mistralai/Mistral-7B-v0.3", **hf), 24.0).breakdown()  # 32k
    assert llama3["logits"] > llama3["weights"]
    assert mistral["logits"] < llama3["logits"] / 3


def test_optimizer_state_per_optimizer() -> None:
    def state(opt: str, lora: LoraSection | None = None, full: bool = False) -> float:
        lora = None if full else (lora or LoraSection(r=64))
        p = dataclasses.replace(
            profile(train__optimizer=opt, model__quantization="none"), lora=lora
        )
        return estimate(p, 80.0, suggest=False).breakdown()["optimizer"]

    assert state("adamw") == pytest.approx(4 * state("adamw_8bit"), rel=0.05)  # fp32 LoRA
    assert state("paged_adamw_8bit") == state("adamw_8bit")
    assert state("sgd") == 0 < state("adafactor") < state("adamw_8bit")
    full_adamw = state("adamw", full=True)  # bf16 weights: two bf16 moments per parameter
    assert full_adamw == pytest.approx(2 * 2 * 3.213e9 / 2**30, rel=0.01)


def test_full_fine_tune_trains_every_parameter() -> None:
    p = dataclasses.replace(profile(model__quantization="none"), lora=None)
    result = estimate(p, 80.0)
    assert result.trainable_params == result.model.spec.params
    assert result.breakdown()["adapters"] == 0
    assert result.breakdown()["gradients"] == pytest.approx(
        result.breakdown()["weights"] + result.breakdown()["embeddings"]
    )


def test_grpo_counts_the_generation_cache_and_a_reference_model_only_when_needed() -> None:
    grpo = dict(
        engine="grpo",
        grpo=GrpoSection(
            num_generations=8, max_prompt_length=512, max_completion_length=2048, beta=0.04
        ),
    )
    lora_run = dataclasses.replace(
        profile("Qwen/Qwen2.5-0.5B-Instruct", train__batch_size=8), **grpo
    )
    full_run = dataclasses.replace(lora_run, lora=None, model=ModelSection("Qwen/Qwen2.5-0.5B"))
    assert estimate(lora_run, 24.0).breakdown()["reference_model"] == 0  # adapters disabled
    assert estimate(full_run, 24.0).breakdown()["reference_model"] > 0.9
    terms = {t.name: t for t in estimate(lora_run, 24.0).terms}
    assert terms["generation_cache"].bytes > 0 or "another moment" in terms["generation_cache"].note


def test_the_2024_peft_recipe_upcasts_embeddings_to_fp32() -> None:
    hf = profile(model__backend="peft", train__gradient_checkpointing="on")
    modern = estimate(hf, 24.0, suggest=False).breakdown()["embeddings"]
    upcast = estimate(hf, 24.0, suggest=False, stack=Stack(kbit_fp32_upcast=True))
    assert upcast.breakdown()["embeddings"] == pytest.approx(2 * modern, rel=0.01)


def test_notes_explain_what_was_assumed() -> None:
    p = profile(model__backend="peft")  # "unsloth" checkpointing without Unsloth
    assert any("Unsloth backend" in n for n in estimate(p, 8.0).notes)
    long = profile(model__max_seq_length=200_000)
    assert any("positions" in n for n in estimate(long, 80.0).notes)


def test_the_shipped_profiles_all_estimate() -> None:
    from cockpit.profiles.store import load_profile_file

    paths = sorted(Path(__file__).resolve().parents[2].joinpath("profiles").glob("*.toml"))
    assert paths
    for path in paths:
        loaded = load_profile_file(path)
        assert loaded.profile is not None, path
        assert estimate(loaded.profile, 16.0).total_gib > 0


@settings(max_examples=60, deadline=None)
@given(
    batch=st.integers(1, 64),
    seq=st.integers(1, 65536),
    rank=st.integers(1, 512),
    quant=st.sampled_from(["none", "8bit", "4bit"]),
    ckpt=st.sampled_from(["off", "on", "unsloth"]),
    backend=st.sampled_from(["auto", "peft", "unsloth"]),
    opt=st.sampled_from(
        ["adamw", "adamw_8bit", "paged_adamw_8bit", "paged_adamw", "adafactor", "sgd"]
    ),
    card=st.one_of(st.none(), st.floats(0.5, 200)),
    lora=st.booleans(),
)
def test_any_valid_profile_estimates_without_crashing(
    batch, seq, rank, quant, ckpt, backend, opt, card, lora
) -> None:
    p = Profile(
        name="h",
        model=ModelSection(
            "cockpit:tiny-llama", quantization=quant, backend=backend, max_seq_length=seq
        ),
        lora=LoraSection(r=rank) if lora else None,
        train=TrainSection(batch_size=batch, gradient_checkpointing=ckpt, optimizer=opt),
        hardware=HardwareSection(),
    )
    result = estimate(p, card)
    assert result.total_gib > 0 and result.verdict in ("fits", "tight", "won't fit", "no GPU")
    assert all(s.total_gib < result.total_gib for s in result.suggestions)


@pytest.mark.slow
@pytest.mark.parametrize(
    "module",
    [
        "cockpit.vram.estimate",
        "cockpit.cli.estimate",
        "cockpit.vram.trace_client",
    ],
)
def test_the_estimator_imports_neither_torch_nor_textual(module: str) -> None:
    code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(eval(out))  # a printed list of module names
    assert not loaded & {"torch", "transformers", "peft", "trl", "textual"}
