"""Which backend trains (Unsloth, PEFT, or a full fine-tune), and Unsloth's loader.

Unsloth patches transformers and TRL when it is imported, so the choice is made — and
Unsloth imported — before anything imports transformers. It is used only when it imports
and a CUDA GPU is present; otherwise PEFT trains and a message says why.
"""

from __future__ import annotations

import importlib
from typing import Any

from engines.emitter import Say
from engines.modeling import LORA_ALL_LINEAR, Runtime
from engines.profile_schema import Profile


def choose_backend(settings: Profile, runtime: Runtime, say: Say) -> str:
    """The backend, "unsloth", "peft" or "full" (no [lora]); imports Unsloth if chosen."""
    wanted = settings.model.backend
    if settings.lora is None:
        if wanted == "unsloth":
            say("warning", "backend unsloth needs a [lora] table here; running a full fine-tune")
        say("info", "backend: full fine-tune (no [lora] table)")
        return "full"
    if wanted not in ("unsloth", "auto"):
        say("info", "backend: PEFT LoRA")
        return "peft"
    reason = _unsloth_unavailable(runtime)
    if reason is None:
        say("info", "backend: Unsloth (FastLanguageModel)")
        return "unsloth"
    level = "warning" if wanted == "unsloth" else "info"
    say(level, f"backend: PEFT LoRA ({reason})")
    return "peft"


def _unsloth_unavailable(runtime: Runtime) -> str | None:
    """Why Unsloth cannot be used here, or None after importing it."""
    if not runtime.cuda:
        return "Unsloth needs a CUDA GPU and none is available"
    try:
        importlib.import_module("unsloth")
    except Exception as exc:  # unsloth raises more than ImportError on a bad stack
        return f"Unsloth does not import: {type(exc).__name__}: {exc}"
    return None


def load_unsloth(settings: Profile, path: str, precision: str, bits: int | None) -> tuple[Any, Any]:
    """(PEFT model, tokenizer) through Unsloth's FastLanguageModel."""
    import torch
    from unsloth import FastLanguageModel

    assert settings.lora is not None
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=path,
        max_seq_length=settings.model.max_seq_length,
        dtype=dtypes[precision],
        load_in_4bit=bits == 4,
        load_in_8bit=bits == 8,
    )
    targets = settings.lora.target_modules
    checkpointing = {"off": False, "on": True, "unsloth": "unsloth"}
    model = FastLanguageModel.get_peft_model(
        model,
        r=settings.lora.r,
        lora_alpha=settings.lora.alpha,
        lora_dropout=settings.lora.dropout,
        target_modules=list(LORA_ALL_LINEAR) if targets == "all-linear" else list(targets),
        bias="none",
        use_gradient_checkpointing=checkpointing.get(settings.train.gradient_checkpointing, True),
        random_state=settings.train.seed,
    )
    return model, tokenizer
