"""Model and tokenizer loading: the device, the precision, quantization and the LoRA config.

What the profile asks for is mapped onto what this machine can do, and every downgrade is
said in a `message` (4-bit without CUDA trains in 32-bit on CPU; bf16 on a card without
it trains in fp16). Unsloth's loader lives in `engines.unsloth_backend`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from engines.emitter import Say
from engines.profile_schema import LoraSection, Profile
from engines.protocol import TINY_LLAMA_ID

"""say(level, text): emit a `message` event."""

LORA_ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""`all-linear` spelled out for loaders that want names (Unsloth)."""


class ModelLoadError(Exception):
    """The model cannot be loaded as the profile says (missing package, bad combination)."""


@dataclass(frozen=True)
class Runtime:
    """Where this process trains."""

    cuda: bool
    local_rank: int
    bf16_ok: bool

    @property
    def device(self) -> str:
        return f"cuda:{self.local_rank}" if self.cuda else "cpu"


def detect_runtime() -> Runtime:
    import torch

    cuda = torch.cuda.is_available()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    return Runtime(cuda, local_rank, bool(cuda and torch.cuda.is_bf16_supported()))


def choose_precision(dtype: str, runtime: Runtime, say: Say) -> str:
    """The precision: bf16 where supported, else fp16 on CUDA, fp32 on CPU."""
    if not runtime.cuda:
        if dtype in ("bf16", "fp16"):
            say("warning", f"dtype {dtype} needs a CUDA GPU here; training in fp32 on CPU")
        return "fp32"
    if dtype == "fp32":
        return "fp32"
    if dtype == "fp16" or not runtime.bf16_ok:
        if dtype == "bf16":
            say("warning", "this GPU has no bf16 support; training in fp16 instead")
        return "fp16"
    return "bf16"


def model_path(name: str) -> str:
    """The path or hub id to load; the tiny demo model is built first when needed."""
    if name == TINY_LLAMA_ID:
        from engines.tiny import ensure_tiny_model

        return str(ensure_tiny_model())
    return os.path.expanduser(name) if name.startswith("~") else name


def quantization_bits(settings: Profile, runtime: Runtime, say: Say) -> int | None:
    """4, 8 or None; without CUDA quantized training falls back to full precision."""
    quant = settings.model.quantization
    if quant not in ("4bit", "8bit"):
        return None
    if settings.lora is None:
        raise ModelLoadError(
            f"quantization = {quant!r} needs a [lora] table: a quantized model can only be "
            'trained through an adapter (QLoRA); add [lora] or set quantization = "none"'
        )
    if not runtime.cuda:
        say(
            "warning",
            f"{quant[0]}-bit needs a CUDA GPU (bitsandbytes); training in 32-bit on CPU instead",
        )
        return None
    return 4 if quant == "4bit" else 8


def load_tokenizer(path: str, say: Say) -> Any:
    """The tokenizer, with a pad token (the eos token, or a new one) when it has none."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
            eos = tokenizer.eos_token
            say("info", f"the tokenizer has no pad token; padding with its eos token {eos!r}")
        else:
            tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
            say("info", "the tokenizer has neither pad nor eos token; added a <|pad|> token")
    return tokenizer


def load_model(settings: Profile, path: str, runtime: Runtime, precision: str, say: Say) -> Any:
    """The base model (quantized when asked and possible), on this rank's device."""
    import torch
    from transformers import AutoModelForCausalLM

    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    kwargs: dict[str, Any] = {}
    bits = quantization_bits(settings, runtime, say)
    if bits is not None:
        kwargs["quantization_config"] = _bnb_config(bits, dtypes[precision])
        # the seeds' "can't train a quantized model on a different device": pin it to this rank
        kwargs["device_map"] = {"": runtime.local_rank}
    # adapters train in fp32 over a half-precision base; a full fine-tune in fp16 needs fp32
    # weights (AMP), bf16 trains bf16 weights directly
    full_fp16 = settings.lora is None and precision == "fp16"
    kwargs["dtype"] = torch.float32 if full_fp16 else dtypes[precision]
    if settings.model.attn_implementation != "auto":
        kwargs["attn_implementation"] = settings.model.attn_implementation
    try:
        return AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except ImportError as exc:
        raise ModelLoadError(f"{exc} (quantized loading needs: pip install bitsandbytes)") from exc


def _bnb_config(bits: int, compute_dtype: Any) -> Any:
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise ModelLoadError(
            f"{bits}-bit loading needs bitsandbytes, which does not import here ({exc}); "
            "pip install bitsandbytes into the training environment"
        ) from exc
    from transformers import BitsAndBytesConfig

    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=compute_dtype,
        bnb_4bit_use_double_quant=True,
    )


def lora_config(lora: LoraSection, task_type: str = "CAUSAL_LM") -> Any:
    """PEFT's LoraConfig from the profile's [lora] table."""
    from peft import LoraConfig

    targets = lora.target_modules
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=targets if isinstance(targets, str) else list(targets),
        bias="none",
        task_type=task_type,
    )


def resize_for_tokenizer(model: Any, tokenizer: Any) -> None:
    """Grow the embeddings when a token (a pad token) was added to the tokenizer."""
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id
