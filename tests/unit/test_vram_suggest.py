"""Suggestions: concrete edits, each with its new estimate, smallest change first."""

from __future__ import annotations

import dataclasses

from cockpit.vram.estimate import estimate
from cockpit.vram.plan import DEFAULT_STACK
from cockpit.vram.suggest import apply_edits, suggestions, truncated_rows
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


LENGTHS = {
    "of": "sequence",
    "limit": 4096,
    "p50": 900,
    "p95": 1800,
    "max": 4000,
    "histogram": [
        {"lo": 0, "hi": 1024, "count": 700},
        {"lo": 1024, "hi": 2048, "count": 250},
        {"lo": 2048, "hi": 4096, "count": 50},
    ],
}


def test_cutting_the_sequence_comes_last_after_the_largest_batch() -> None:
    p = dataclasses.replace(
        _hf_profile(batch_size=16, grad_accum=1),
        model=ModelSection("Qwen/Qwen2.5-0.5B-Instruct", max_seq_length=512),
    )
    result = estimate(p, 8.0)
    changes = [s.change for s in result.suggestions]
    assert any("largest batch" in c for c in changes)
    assert "max_seq_length 512 → 128 (the longest that fits" in changes[-1]
    assert "too short for most real rows" in changes[-1]
    assert "rows it truncates unknown: run the Data check" in changes[-1]


def test_a_cut_below_the_datas_p95_says_how_many_rows_it_truncates() -> None:
    p = _hf_profile(batch_size=1, grad_accum=16)
    current = estimate(p, 8.0, suggest=False)
    found = suggestions(p, current, 8.0, DEFAULT_STACK, LENGTHS)
    cut = found[-1]
    seq = cut.edits["model.max_seq_length"]
    assert 1024 <= seq < 1800  # below p95, inside the 1024-2048 bin
    assert "truncates 50–300 of 1,000 rows" in cut.change
    assert "below the data's p95 (1,800 tokens)" in cut.change


def test_truncated_rows_counts_whole_bins_above_the_cut() -> None:
    assert truncated_rows(2048, LENGTHS) == (50, 50, 1000)
    assert truncated_rows(100, LENGTHS) == (300, 1000, 1000)
    assert truncated_rows(2048, None) is None
    assert truncated_rows(2048, {"histogram": [{"lo": "x"}]}) is None


def _big_rank(alpha: int) -> Profile:
    model = ModelSection("Qwen/Qwen2.5-7B-Instruct", quantization="4bit", max_seq_length=512)
    lora = LoraSection(r=256, alpha=alpha)
    return dataclasses.replace(_hf_profile(batch_size=1), lora=lora, model=model)


def test_halving_the_rank_halves_alpha_so_alpha_over_r_is_unchanged() -> None:
    p = _big_rank(512)
    rank = next(s for s in estimate(p, 8.0).suggestions if s.change.startswith("LoRA r"))
    assert rank.edits == {"lora.r": 128, "lora.alpha": 256}
    assert "alpha/r stays 2" in rank.change
    edited = apply_edits(p, rank.edits).lora
    assert edited.alpha / edited.r == 2


def test_when_alpha_cannot_be_halved_the_suggestion_says_the_scale_changes() -> None:
    rank = next(
        s for s in estimate(_big_rank(15), 8.0).suggestions if s.change.startswith("LoRA r")
    )
    assert rank.edits == {"lora.r": 128}
    assert "alpha/r changes 0.0586 → 0.117" in rank.change
