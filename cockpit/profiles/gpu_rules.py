"""What a profile asks of the GPU it trains on: bf16 and FlashAttention 2 need Ampere
(on a Mac: bf16 needs macOS 14, FlashAttention 2 a CUDA GPU).

A profile is valid or not on its own; whether this card can run it depends on the card. The
Profiles place shows these problems for the detected GPU while the profile is edited, and
pre-flight refuses (or warns) with the same catalog ids before a run starts, deciding by what
the engine would do: FlashAttention 2 on a card below compute capability 8.0 fails when the
model loads (an error); bf16 there is trained in fp16 by the engine itself (a warning).
"""

from __future__ import annotations

from cockpit.hardware.cuda import pre_ampere, sm
from cockpit.hardware.snapshot import GpuTraits
from cockpit.profiles.validate import Problem
from engines.profile_schema import ModelSection

BF16_CAUSE = "bf16_unsupported"
FLASH_ATTN_CAUSE = "flash_attn_unsupported_gpu"


def gpu_problems(model: ModelSection, card: GpuTraits | None) -> list[Problem]:
    """What `card` cannot do of what `model` asks; nothing when its capability is unknown."""
    if card is not None and card.unified_memory:
        return _apple_problems(model, card)
    if card is None or not pre_ampere(card.compute_capability):
        return []
    cap = card.compute_capability or (0, 0)
    seen = f"{card.name or 'the GPU'} is {sm(cap)} (compute capability {cap[0]}.{cap[1]})"
    problems = []
    if model.attn_implementation == "flash_attention_2":
        problems.append(
            Problem(
                "model.attn_implementation",
                model.attn_implementation,
                f"{seen}: FlashAttention 2 runs only on 8.0 (Ampere) or newer, so loading the "
                "model fails",
                'set model.attn_implementation = "sdpa" (PyTorch\'s own attention; "auto" '
                "picks it)",
                catalog_id=FLASH_ATTN_CAUSE,
            )
        )
    if model.dtype == "bf16":
        problems.append(
            Problem(
                "model.dtype",
                model.dtype,
                f"{seen}, which has no bfloat16 (8.0 or newer has): the engine trains in fp16",
                'set model.dtype = "fp16" (or "auto", which picks fp16 on this card)',
                "warning",
                catalog_id=BF16_CAUSE,
            )
        )
    return problems


def _apple_problems(model: ModelSection, card: GpuTraits) -> list[Problem]:
    """Apple's GPU (PyTorch's mps): no FlashAttention 2 (CUDA only); bf16 from macOS 14."""
    problems = []
    if model.attn_implementation == "flash_attention_2":
        problems.append(
            Problem(
                "model.attn_implementation",
                model.attn_implementation,
                f"{card.name} trains through PyTorch's mps: FlashAttention 2 needs a CUDA GPU, "
                "so loading the model fails",
                'set model.attn_implementation = "sdpa" (PyTorch\'s own attention; "auto" '
                "picks it)",
                catalog_id=FLASH_ATTN_CAUSE,
            )
        )
    if model.dtype == "bf16" and card.has_bf16 is False:
        problems.append(
            Problem(
                "model.dtype",
                model.dtype,
                f"{card.name}: PyTorch's mps has bfloat16 only on macOS 14 or newer, and this "
                "Mac runs an older one: the engine trains in fp16",
                'set model.dtype = "fp16" (or "auto", which picks fp16 here), or update macOS',
                "warning",
                catalog_id=BF16_CAUSE,
            )
        )
    return problems
