"""Model and tokenizer loading: the device, the precision, quantization and the LoRA config.

What the profile asks for is mapped onto what this machine can do, and every downgrade is
said in a `message` (4-bit without CUDA trains in 32-bit on CPU; bf16 on a card without
it trains in fp16). Without CUDA, Apple Silicon's GPU (`mps`) is used when PyTorch offers it:
the CUDA precision rules, bf16 only on macOS 14 or newer, no bitsandbytes (no 4/8-bit), no
pinned memory. Unsloth's loader lives in `engines.unsloth_backend`.
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
    mps: bool = False
    """Apple Silicon's GPU through PyTorch's Metal backend (used only without CUDA)."""
    fp16_ok: bool = True
    """fp16 mixed precision works (on mps it needs torch 2.8: accelerate's GradScaler)."""

    @property
    def device(self) -> str:
        if self.cuda:
            return f"cuda:{self.local_rank}"
        return "mps" if self.mps else "cpu"


MPS_FP16_TORCH = (2, 8)
"""accelerate refuses fp16's GradScaler on mps below torch 2.8."""
MPS_BF16_MACOS = (14, 0)
"""PyTorch's mps has bfloat16 from macOS 14 (transformers and accelerate ask the same)."""


def detect_runtime(say: Say | None = None) -> Runtime:
    """CUDA when torch sees it, else Apple's GPU (mps) when available, else the CPU; the
    choice of mps is said, with what it rules out."""
    import torch

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        return Runtime(True, local_rank, bool(torch.cuda.is_bf16_supported()))
    if not _mps_available(torch):
        return Runtime(False, local_rank, False)
    fp16 = _version_tuple(torch.__version__) >= MPS_FP16_TORCH
    runtime = Runtime(False, local_rank, _mps_bf16(torch), mps=True, fp16_ok=fp16)
    if say is not None:
        say("info", mps_note(runtime))
    return runtime


def mps_note(runtime: Runtime) -> str:
    """What training on Apple's GPU means for this run, for the log."""
    bf16 = "bf16 available" if runtime.bf16_ok else "no bf16 before macOS 14"
    return (
        f"no CUDA GPU; training on Apple's GPU (mps, unified memory): {bf16}; no 4-bit or "
        "8-bit (bitsandbytes has no mps path); dataloader pin_memory off"
    )


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    try:
        return bool(backend is not None and backend.is_available())
    except Exception:  # an odd build must fall back to the CPU, not fail the run
        return False


def _mps_bf16(torch: Any) -> bool:
    """bf16 on mps: macOS 14 or newer (asked as torch asks it, else tried on a tiny tensor)."""
    newer = getattr(torch.backends.mps, "is_macos_or_newer", None)
    try:
        if newer is not None:
            return bool(newer(*MPS_BF16_MACOS))
        torch.ones(1, dtype=torch.bfloat16, device="mps")
    except Exception:  # older macOS: Metal refuses bfloat16 tensors
        return False
    return True


def _version_tuple(version: str) -> tuple[int, ...]:
    """ "2.9.0+cpu" -> (2, 9, 0); unreadable parts stop the tuple."""
    numbers = []
    for part in version.split("+")[0].split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


def trainer_device_args(runtime: Runtime) -> dict[str, Any]:
    """TrainingArguments that put the trainer on this runtime's device: `use_cpu` only
    without a GPU (with it set, transformers ignores mps), no pinned memory on mps."""
    return {"use_cpu": runtime.device == "cpu", "dataloader_pin_memory": runtime.cuda}


def choose_precision(dtype: str, runtime: Runtime, say: Say) -> str:
    """The precision: bf16 where supported, else fp16 on a GPU (fp32 where fp16 cannot
    train either), fp32 on CPU."""
    if runtime.device == "cpu":
        if dtype in ("bf16", "fp16"):
            say("warning", f"dtype {dtype} needs a CUDA GPU here; training in fp32 on CPU")
        return "fp32"
    if dtype == "fp32":
        return "fp32"
    if dtype != "fp16" and runtime.bf16_ok:
        return "bf16"
    if dtype == "bf16":
        half = "fp16" if runtime.fp16_ok else "fp32"
        say("warning", f"{_no_bf16(runtime)}; training in {half} instead")
    if not runtime.fp16_ok:
        if dtype == "fp16":
            say("warning", "fp16 on Apple's GPU (mps) needs torch 2.8 or newer; training in fp32")
        return "fp32"
    return "fp16"


def _no_bf16(runtime: Runtime) -> str:
    if runtime.mps:
        return "Apple's GPU (mps) has bf16 only on macOS 14 or newer"
    return "this GPU has no bf16 support"


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
    if runtime.mps:
        say(
            "warning",
            f"{quant[0]}-bit needs a CUDA GPU (bitsandbytes has no mps path); training the "
            "unquantized model on Apple's GPU (mps) instead: its weights take 2-4x the memory",
        )
        return None
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
