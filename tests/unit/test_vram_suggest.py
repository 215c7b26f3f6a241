"""Suggestions: concrete edits, each with its new estimate, smallest change first."""

from __future__ import annotations

import dataclasses

from cockpit.vram.estimate import estimate
from cockpit.vram.suggest import apply_edits
from engines.profile_schema import LoraSection, ModelSection, Profile, TrainSection


def _hf_profile(**train) -> Profile:
    return Profile(
        name="s",
        model=ModelSection(
            "unsloth/Llama-3.2-3B-Instruct-bnb-4bit",
            quantization="4bit",
            backend="auto",
            max_seq_length=4096,
        ),
        lora=LoraSection(r=16),
        train=TrainSection(
            **(
                {
                    "batch_size": 4,
                    "grad_accum": 4,
                    "gradient_checkpointing": "on",
                    "optimizer": "adamw_8bit",
                }
                | train
            )
        ),
    )


def test_a_profile_that_fits_gets_no_suggestions() -> None:
    assert estimate(_hf_profile(batch_size=1), 80.0).suggestions == ()


def test_batch_one_keeps_the_effective_batch_and_comes_first() -> None:
    result = estimate(_hf_profile(), 8.0)
    assert result.verdict == "won't fit"
    first = result.suggestions[0]
    assert first.edits == {"train.batch_size": 1, "train.grad_accum": 16}
    assert first.change == "batch_size 4 → 1, grad_accum 4 → 16 (same effective batch)"
    assert first.total_gib < result.total_gib


def test_every_suggestion_reports_the_estimate_its_edit_gives() -> None:
    p = _hf_profile()
    for suggestion in estimate(p, 8.0).suggestions:
        again = estimate(apply_edits(p, suggestion.edits), 8.0, suggest=False)
        assert again.total_gib == suggestion.total_gib
        assert again.verdict == suggestion.verdict


def test_the_longest_sequence_that_fits_fits_and_one_step_more_does_not() -> None:
    p = _hf_profile(batch_size=1, grad_accum=16)
    result = estimate(p, 8.0)
    longest = next(s for s in result.suggestions if "the longest" in s.change)
    seq = longest.edits["model.max_seq_length"]
    assert longest.verdict == "fits"
    assert estimate(apply_edits(p, {"model.max_seq_length": seq + 64}), 8.0).verdict != "fits"


def test_the_largest_batch_that_fits_is_offered_with_grad_accum_raised() -> None:
    p = dataclasses.replace(
        _hf_profile(batch_size=16, grad_accum=1),
        model=ModelSection("Qwen/Qwen2.5-0.5B-Instruct", max_seq_length=512),
    )
    result = estimate(p, 8.0)
    largest = next(s for s in result.suggestions if "largest batch" in s.change)
    batch = largest.edits["train.batch_size"]
    assert 1 < batch < 16 and largest.verdict == "fits"
    assert batch * largest.edits["train.grad_accum"] >= 16
    bigger = apply_edits(p, {"train.batch_size": batch + 1})
    assert estimate(bigger, 8.0, suggest=False).verdict != "fits"


def test_when_no_single_edit_is_enough_they_are_combined() -> None:
    p = Profile(
        name="big",
        model=ModelSection("Qwen/Qwen2.5-7B-Instruct", max_seq_length=4096),
        lora=LoraSection(r=64),
        train=TrainSection(batch_size=4, grad_accum=4, gradient_checkpointing="off"),
    )
    result = estimate(p, 12.0)
    assert not any(s.verdict == "fits" for s in result.suggestions[:-1])
    combined = result.suggestions[-1]
    assert combined.verdict == "fits"
    assert combined.edits["model.quantization"] == "4bit"
    assert combined.edits["train.gradient_checkpointing"] == "unsloth"


def test_a_full_fine_tune_is_offered_qlora() -> None:
    p = dataclasses.replace(
        _hf_profile(batch_size=1),
        lora=None,
        model=ModelSection("meta-llama/Llama-3.2-3B", max_seq_length=1024),
    )
    qlora = next(s for s in estimate(p, 8.0).suggestions if "QLoRA" in s.change)
    edited = apply_edits(p, qlora.edits)
    assert edited.lora == LoraSection(r=16, alpha=16)
    assert edited.model.quantization == "4bit"


def test_apply_edits_changes_only_the_named_keys() -> None:
    p = _hf_profile()
    edited = apply_edits(p, {"train.batch_size": 2, "lora.r": 8})
    assert (edited.train.batch_size, edited.lora.r) == (2, 8)
    assert edited.train.grad_accum == p.train.grad_accum and edited.model == p.model
