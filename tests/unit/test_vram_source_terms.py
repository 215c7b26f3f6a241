"""QLoRA and Unsloth terms read from bitsandbytes' and Unsloth's source, not fitted.

- bitsandbytes MatMul4Bit.backward (and its forward at training batch sizes) dequantizes
  a 4-bit weight to 16 bit: one largest weight is alive in a layer's backward;
- Unsloth's fast_dequantize keeps a global buffer of the largest weight all run, and its
  backward dequantizes into a fresh tensor again;
- unsloth_zoo's chunked loss splits the fp32 logits so a chunk stays under
  min(half the free memory, 4 GB), in multiples of 4 chunks.
"""

from __future__ import annotations

import dataclasses

import pytest

from cockpit.vram.estimate import estimate
from cockpit.vram.plan import make_plan, stack_for
from cockpit.vram.resolve import resolve_model
from cockpit.vram.terms import GIB, LOSS_BYTES_PER_LOGIT, _logits_bytes, unsloth_chunks
from engines.profile_schema import LoraSection, ModelSection, Profile, TrainSection

LLAMA_8B_MLP = 14336 * 4096  # the largest linear of Llama-3.1-8B (gate/up/down)


def _profile(backend: str, quantization: str = "4bit", seq: int = 2048) -> Profile:
    ckpt = "unsloth" if backend == "unsloth" else "on"
    return Profile(
        name="p",
        model=ModelSection(
            "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit",
            quantization=quantization,  # type: ignore[arg-type]
            backend=backend,  # type: ignore[arg-type]
            max_seq_length=seq,
        ),
        lora=LoraSection(r=16),
        train=TrainSection(gradient_checkpointing=ckpt),  # type: ignore[arg-type]
    )


def _terms(profile: Profile, card: float | None = 80.0, **kw) -> dict[str, float]:
    return {t.name: t.bytes for t in estimate(profile, card, suggest=False, **kw).terms}


def test_unsloth_chunk_count_follows_unsloth_zoo_get_chunk_size() -> None:
    logits_1gib = GIB // 4  # fp32 logits of exactly 1 GiB
    assert unsloth_chunks(logits_1gib, None) == 1  # under the 4 GB cap: one chunk
    assert unsloth_chunks(logits_1gib, 1.0) == 4  # target 0.5: exact 2 -> up to 4
    assert unsloth_chunks(20 * logits_1gib, None) == 8  # exact 5 -> 8
    assert unsloth_chunks(20 * logits_1gib, 100.0) == 8  # the target never exceeds 4 GB


def test_unsloth_loss_is_one_chunk_of_logits_and_shrinks_on_a_fuller_card() -> None:
    long = _profile("unsloth", seq=32768)
    logits, hidden = 32768 * 128256, 2.0 * 32768 * 4096
    big = _terms(long, 80.0)["logits"]  # 15.7 GiB of fp32 logits: 4 chunks under 4 GB
    assert big == pytest.approx(LOSS_BYTES_PER_LOGIT * logits / 4 + hidden)
    assert _terms(long, 12.0)["logits"] < big  # less free memory, smaller chunks


def test_older_unsloth_versions_use_their_own_loss() -> None:
    p = _profile("unsloth", seq=8192)
    spec = resolve_model(p.model.name_or_path).spec
    logits, hidden = 8192 * 128256, 2.0 * 8192 * 4096

    def loss(versions: dict[str, str]) -> float:
        return _logits_bytes(make_plan(p, spec, stack_for(versions)), 60.0)

    assert loss({"unsloth": "2025.3"}) == pytest.approx(hidden)  # Cut Cross-Entropy
    assert loss({"unsloth": "2024.10"}) == pytest.approx(8.0 * logits)  # all logits
    assert loss({"unsloth": "2026.8"}) == pytest.approx(12.0 * logits + hidden)  # 1 chunk


def test_hf_loss_is_twelve_bytes_per_logit() -> None:
    assert _terms(_profile("peft"))["logits"] == pytest.approx(12.0 * 2048 * 128256)


def test_4bit_backward_holds_one_dequantized_weight() -> None:
    one = LLAMA_8B_MLP * 2 + LLAMA_8B_MLP / 64 * 4  # bf16 weight + fp32 absmax
    hf = estimate(_profile("peft"), 80.0, suggest=False)
    hf_dequant = next(t for t in hf.terms if t.name == "dequantize")
    assert hf_dequant.bytes in (0.0, pytest.approx(one))  # only in the backward moment
    unsloth = _terms(_profile("unsloth"))
    assert unsloth["dequantize"] in (pytest.approx(one), pytest.approx(2 * one))
    assert _terms(_profile("peft", "none"))["dequantize"] == 0.0


def test_the_unsloth_buffer_is_kept_at_the_loss_moment_too() -> None:
    p = dataclasses.replace(_profile("unsloth", seq=65536))  # the loss is the peak
    terms = {t.name: t for t in estimate(p, 80.0, suggest=False).terms}
    assert terms["logits"].bytes > terms["recompute"].bytes
    assert terms["dequantize"].bytes == pytest.approx(LLAMA_8B_MLP * (2 + 4 / 64))
