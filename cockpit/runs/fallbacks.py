"""What the engine will do instead of what the profile asks, said before the start.

Without CUDA the engine loads a 4-bit/8-bit model unquantized in 32-bit on CPU, trains in
fp32 whatever `dtype` says, swaps an 8-bit optimizer for AdamW (engines/modeling.py,
engines/job.py), and trains with PEFT instead of Unsloth (engines/unsloth_backend.py). Each
was said only in the log, after the model had loaded; here each is a warning with what to
change in the profile. "No CUDA" is judged without importing torch: no NVIDIA GPU detected,
CUDA_VISIBLE_DEVICES hiding them, or a CPU-only torch build in the training interpreter.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cockpit.hardware.snapshot import GpuTraits
from cockpit.runs.refusal import Refusal
from cockpit.runs.stack_check import TrainingStack, same_interpreter
from engines.profile_schema import Profile

QUANT_CAUSE = "bnb_4bit_requires_cuda_gpu"
UNSLOTH_CAUSE = "unsloth_no_accelerator"
_BNB_OPTIMIZERS = ("adamw_8bit", "paged_adamw_8bit", "paged_adamw")
"""Profile optimizer names that need bitsandbytes on CUDA (engines/job.py OPTIMIZERS)."""


def _nvidia(gpu: GpuTraits) -> bool:
    """A CUDA card (an Apple GPU, when the hardware place reports one, is not)."""
    if gpu.name.lower().startswith("apple"):
        return False
    return bool(gpu.cuda_driver_version or gpu.compute_capability or gpu.memory_gib)


def no_cuda_reason(gpus: Sequence[GpuTraits], stack: TrainingStack | None) -> str | None:
    """Why the training interpreter will see no CUDA device, or None when it should."""
    if not any(_nvidia(g) for g in gpus):
        return "no NVIDIA GPU is detected"
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    if hidden is not None and hidden.strip() in ("", "-1"):
        return f"CUDA_VISIBLE_DEVICES={hidden!r} hides the GPUs"
    if stack is not None and stack.cpu_torch:
        return f"{stack.python} has a CPU-only torch ({stack.torch_version})"
    return None


def fallback_warnings(
    profile: Profile, gpus: Sequence[GpuTraits], stack: TrainingStack | None
) -> list[Refusal]:
    """One warning per fallback the engine will take on this machine."""
    model, found = profile.model, []
    no_cuda = no_cuda_reason(gpus, stack)
    apple = any(g.unified_memory for g in gpus)  # the engine trains on mps there
    if no_cuda and model.quantization in ("4bit", "8bit") and profile.lora is not None:
        bits = model.quantization[0]
        where, width = ("on the Apple GPU (mps)", 16) if apple else ("in 32-bit on CPU", 32)
        found.append(
            Refusal(
                "model.quantization",
                f"{no_cuda}: the engine loads the model unquantized, {where}, instead "
                f"of {bits}-bit (bitsandbytes needs CUDA): about {width // int(bits)}× the "
                "weights' memory" + ("" if apple else ", and far slower"),
                'set model.quantization = "none" (and a small model) to plan for what will '
                "run, or train where the training torch sees an NVIDIA GPU",
                "hardware",
                QUANT_CAUSE,
                f'"{model.quantization}"',
            )
        )
    if no_cuda and not apple and model.dtype in ("bf16", "fp16"):  # mps: preventable's rule
        found.append(
            Refusal(
                "model.dtype",
                f"{no_cuda}: the engine trains in fp32 on CPU instead",
                'set model.dtype = "auto"',
                "hardware",
                value=f'"{model.dtype}"',
            )
        )
    optimizer = profile.train.optimizer
    if no_cuda and optimizer in _BNB_OPTIMIZERS:
        found.append(
            Refusal(
                "train.optimizer",
                f"{no_cuda}: the engine uses adamw instead (bitsandbytes' optimizers need CUDA)",
                'set train.optimizer = "adamw"',
                "hardware",
                value=f'"{optimizer}"',
            )
        )
    found += _unsloth(profile, no_cuda, stack)
    return found


def _unsloth(profile: Profile, no_cuda: str | None, stack: TrainingStack | None) -> list[Refusal]:
    """Unsloth asked for (backend = "unsloth", with [lora]) where it cannot be used."""
    if profile.model.backend != "unsloth" or profile.lora is None:
        return []
    if no_cuda:
        why, cause = f"{no_cuda} and Unsloth needs a CUDA GPU", UNSLOTH_CAUSE
    elif stack is not None and stack.error is None and not stack.unsloth:
        why, cause = f"Unsloth is not installed in {stack.python}", None
    else:
        return []
    install = ""
    if stack is not None and no_cuda is None:
        extra = '"cockpit[unsloth]"' if same_interpreter(stack.python) else "unsloth"
        install = f", or install it: {stack.python} -m pip install {extra}"
    return [
        Refusal(
            "model.backend",
            f"{why}: the engine trains with PEFT LoRA instead (slower, more memory)",
            f'set model.backend = "peft" (or "auto") to plan for that{install}',
            "hardware",
            cause,
            '"unsloth"',
        )
    ]
