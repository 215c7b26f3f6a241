"""GRPO's memory in the estimate: the rollout's KV cache and temporaries per attention
implementation, TRL's streamed completion log-probs, the reference model, colocated vLLM."""

from __future__ import annotations

import dataclasses

import pytest

from cockpit.vram import grpo as grpo_terms
from cockpit.vram.estimate import estimate
from cockpit.vram.plan import make_plan
from cockpit.vram.resolve import resolve_model
from cockpit.vram.terms import GIB
from engines.profile_schema import GrpoSection, LoraSection, ModelSection, Profile, TrainSection

QWEN = "Qwen/Qwen2.5-0.5B-Instruct"  # 24 layers, 2 KV heads of 64, vocab 151,936


def grpo_profile(
    model: str = QWEN, *, attn: str = "auto", lora: bool = True, train: dict | None = None, **grpo
) -> Profile:
    return Profile(
        name="g",
        engine="grpo",
        model=ModelSection(model, attn_implementation=attn),  # type: ignore[arg-type]
        lora=LoraSection(r=16) if lora else None,
        train=TrainSection(**(train or {"batch_size": 4, "grad_accum": 4})),  # type: ignore[arg-type]
        grpo=GrpoSection(**{"max_prompt_length": 256, "max_completion_length": 512, **grpo}),
    )


def terms_of(profile: Profile, card: float | None = 24.0) -> dict:
    return {t.name: t for t in estimate(profile, card, suggest=False).terms}


def test_the_kv_cache_is_the_whole_generation_batch_over_prompt_and_completion():
    plan = make_plan(grpo_profile(), resolve_model(QWEN).spec)
    sequences, tokens = 4 * 4, 256 + 512  # batch_size × grad_accum, prompt + completion
    per_token = 2 * 24 * (2 * 64) * 2  # k and v, 24 layers, kv_dim 128, bf16
    assert grpo_terms.kv_cache_bytes(plan) == sequences * tokens * per_token


def test_a_long_rollout_makes_generation_the_peak_and_says_so():
    long = grpo_profile(
        train={"batch_size": 8, "grad_accum": 8}, max_prompt_length=1024, max_completion_length=4096
    )
    terms = terms_of(long)
    assert terms["generation_cache"].gib == pytest.approx(64 * 5120 * 12288 / GIB)  # 3.75 GiB
    assert terms["generation_work"].bytes > 0
    assert "another moment" in terms["recompute"].note and terms["recompute"].bytes == 0
    assert "generation KV cache: 64 sequences (batch_size × grad_accum) × 5120 tokens" in (
        terms["generation_cache"].label
    )


def test_generation_temporaries_follow_the_attention_implementation():
    """A 4096-token prompt: eager's s² scores dominate; SDPA's boolean mask and repeated k/v
    and FlashAttention's unpadded copies stay under the MLP's intermediates."""

    def work(attn: str) -> float:
        profile = grpo_profile(attn=attn, max_prompt_length=4096, max_completion_length=256)
        return grpo_terms.generation_work_bytes(make_plan(profile, resolve_model(QWEN).spec))

    sequences, scores = 16, 14 * 4096 * 4096 * (2 + 4 + 2)  # heads × s² × (16, fp32, 16 bit)
    assert work("eager") > sequences * scores
    assert work("sdpa") == work("auto") < work("eager") / 10
    assert work("flash_attention_2") <= work("sdpa")


def test_completion_log_probs_are_streamed_not_materialized():
    """TRL's chunked LM head: the 4 × 512 completion logits (151,936 vocab) never exist."""
    plan = make_plan(grpo_profile(), resolve_model(QWEN).spec)
    materialized = grpo_terms.MATERIALIZED_LOGIT_BYTES * 4 * 512 * 151_936
    streamed = grpo_terms.streamed_logprob_bytes(plan)
    assert streamed < materialized / 10
    label = terms_of(grpo_profile())["logits"].label
    assert "chunked LM head over 2,048 completion tokens" in label


def test_the_reference_model_is_a_second_copy_only_for_a_full_fine_tune():
    full = terms_of(grpo_profile(lora=False, beta=0.04))
    weights = full["weights"].bytes + full["embeddings"].bytes
    assert full["reference_model"].bytes == pytest.approx(weights)
    lora = terms_of(grpo_profile(beta=0.04))["reference_model"]
    assert lora.bytes == 0 and "disables the adapter" in lora.note
    assert terms_of(grpo_profile(lora=False))["reference_model"].bytes == 0  # beta = 0


def test_colocated_vllm_takes_its_share_of_the_card_and_replaces_hf_generation():
    terms = terms_of(grpo_profile(use_vllm=True, vllm_gpu_memory_utilization=0.4), card=16.0)
    assert terms["vllm"].gib == pytest.approx(0.4 * 16.0)
    assert "40% of the card" in terms["vllm"].label
    cache = terms["generation_cache"]
    assert cache.bytes == 0 and "vLLM generates" in cache.label
    server = terms_of(grpo_profile(use_vllm=True, vllm_mode="server"))["vllm"]
    assert server.bytes == 0 and "another GPU" in server.note
    unknown = terms_of(grpo_profile(use_vllm=True), card=None)["vllm"]
    assert unknown.bytes == 0 and "no card size" in unknown.note


def test_vllm_moves_the_verdict():
    """The toy fits a 12 GiB card with HF generation; colocated vLLM at 0.9 does not."""
    assert estimate(grpo_profile(), 12.0, suggest=False).verdict == "fits"
    with_vllm = estimate(grpo_profile(use_vllm=True, vllm_gpu_memory_utilization=0.9), 12.0)
    assert with_vllm.total_gib > 12.0 and with_vllm.verdict != "fits"


def test_every_grpo_term_is_in_the_breakdown_of_every_profile():
    sft = dataclasses.replace(grpo_profile(), engine="sft", grpo=None)
    for profile in (grpo_profile(), sft):
        breakdown = estimate(profile, 24.0, suggest=False).to_json()["breakdown"]
        assert {"generation_cache", "generation_work", "reference_model", "vllm"} <= set(breakdown)
    assert estimate(sft, 24.0, suggest=False).breakdown()["vllm"] == 0
