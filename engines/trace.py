"""`python -m engines trace PROFILE`: count what one training step keeps in memory.

The real architecture is built on the meta device (shapes only: no weights, no GPU, no
download), LoRA is applied as the profile says, and one forward+backward runs with the
profile's batch x sequence. Saved activations are counted with
``torch.autograd.graph.saved_tensors_hooks``, skipping tensors that share storage with
a parameter or buffer (frozen weights are saved for backward but cost nothing extra).

It is the precise twin of cockpit's analytic estimator, used to check it. Standalone:
it reads the profile with tomllib and imports nothing from cockpit.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from engines.protocol import TINY_LLAMA_CONFIG, TINY_LLAMA_ID

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FLASH_LIKE = "cockpit_meta_fused"
"""Attention that saves what GPU flash/SDPA kernels save: q, k, v, output, logsumexp."""
_DTYPES = {
    "auto": torch.bfloat16,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
    "fp32": torch.float32,
}


class TraceError(Exception):
    """The profile cannot be traced (no config for the model, bad values)."""


def load_profile(path: str | Path) -> dict[str, Any]:
    """The profile TOML as a dict."""
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def model_config(profile: dict[str, Any], config_path: str | None = None) -> dict[str, Any]:
    """The model's config.json as a dict: --config, the tiny model, a local dir or the HF cache."""
    if config_path:
        return json.loads(Path(config_path).read_text(encoding="utf-8"))
    name = str(profile.get("model", {}).get("name_or_path", ""))
    if name == TINY_LLAMA_ID:
        return dict(TINY_LLAMA_CONFIG)
    local = Path(name).expanduser() / "config.json"
    if local.is_file():
        return json.loads(local.read_text(encoding="utf-8"))
    try:
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(name, local_files_only=True).to_dict()
    except Exception as exc:  # not cached, not a path: say what to pass instead
        raise TraceError(
            f"no config.json for {name!r} (not a local directory, not in the Hugging Face "
            "cache); pass --config PATH/config.json"
        ) from exc


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    """Multimodal configs (Gemma 3) keep the language model under text_config."""
    text = config.get("text_config")
    if not isinstance(text, dict):
        return config
    merged = {k: v for k, v in text.items() if k != "architectures"}
    merged.setdefault("model_type", f"{config.get('model_type', '')}_text")
    return merged


def _pretrained_config(config: dict[str, Any]) -> Any:
    from transformers import AutoConfig

    values = {k: v for k, v in _text_config(config).items() if k not in ("architectures",)}
    model_type = values.pop("model_type", "llama")
    for key in ("torch_dtype", "dtype", "transformers_version", "quantization_config"):
        values.pop(key, None)
    return AutoConfig.for_model(model_type, **values)


class _FlashLike(torch.autograd.Function):
    """Shapes-only attention with the saved set of a fused GPU kernel (O(s), not O(s²))."""

    @staticmethod
    def forward(ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        out = q.new_empty(q.shape[0], q.shape[2], q.shape[1], v.shape[-1])
        lse = q.new_empty(q.shape[:-1], dtype=torch.float32)
        ctx.save_for_backward(q, k, v, out, lse)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, ...]:
        q, k, v, _out, _lse = ctx.saved_tensors
        return torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)


class _DropoutLike(torch.autograd.Function):
    """Dropout that saves a 1-byte mask, as the fused GPU kernel does (CPU saves the dtype)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(torch.empty(x.shape, dtype=torch.bool, device=x.device))
        return torch.empty_like(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return torch.empty_like(grad)


class _Dropout(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _DropoutLike.apply(x) if self.training else x


def _flash_like_attention(
    module: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: Any,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    return _FlashLike.apply(query, key, value), None


def _register_attention() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS

    AttentionInterface.register(FLASH_LIKE, _flash_like_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(FLASH_LIKE, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])


def _settings(profile: dict[str, Any]) -> dict[str, Any]:
    model, train = profile.get("model", {}), profile.get("train", {})
    quantized = model.get("quantization", "none") in ("4bit", "8bit")
    backend = model.get("backend", "auto")
    ckpt = train.get("gradient_checkpointing", "on")
    unsloth = backend == "unsloth" or (backend == "auto" and ckpt == "unsloth")
    seq = int(model.get("max_seq_length", 2048))
    if profile.get("engine") == "grpo":
        grpo = profile.get("grpo", {})
        seq = int(grpo.get("max_prompt_length", 512)) + int(grpo.get("max_completion_length", 256))
    dtype = _DTYPES.get(model.get("dtype", "auto"), torch.bfloat16)
    # PEFT keeps adapters in fp32 (TRL casts QLoRA ones to bf16; Unsloth upcasts them).
    fp32_adapters = not quantized or unsloth or dtype == torch.float32
    return {
        "dtype": dtype,
        "attn": model.get("attn_implementation", "auto"),
        # TRL's GRPO batch_size counts completions: one training pass holds batch_size of them.
        "batch": int(train.get("batch_size", 1)),
        "seq": seq,
        "checkpointing": ckpt,
        # fp32 adapters under AMP: each LoRA module saves its own 16-bit input copy.
        "amp_copies": fp32_adapters and dtype != torch.float32 and not unsloth,
        "adapter_bytes": 4 if fp32_adapters else 2,
    }


def build_model(profile: dict[str, Any], config: dict[str, Any]) -> torch.nn.Module:
    """The architecture on the meta device, with LoRA applied when the profile has [lora]."""
    from transformers import AutoModelForCausalLM

    settings = _settings(profile)
    _register_attention()
    attn = "eager" if settings["attn"] == "eager" else FLASH_LIKE
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(
            _pretrained_config(config), dtype=settings["dtype"], attn_implementation=attn
        )
    lora = profile.get("lora")
    if lora is None:
        return model
    return _apply_lora(model, lora, settings["amp_copies"])


def _apply_lora(model: torch.nn.Module, lora: dict[str, Any], amp_copies: bool) -> Any:
    from peft import LoraConfig, get_peft_model

    targets = lora.get("target_modules", "all-linear")
    config = LoraConfig(
        r=int(lora.get("r", 16)),
        lora_alpha=int(lora.get("alpha", 16)),
        lora_dropout=float(lora.get("dropout", 0.0)),
        target_modules=targets if isinstance(targets, str) else list(targets),
    )
    # 16-bit adapters compute like AMP does; the AMP input copies are added by a hook.
    peft_model = get_peft_model(model, config, autocast_adapter_dtype=False)
    _gpu_dropout(peft_model)
    if amp_copies and not float(lora.get("dropout", 0.0)):
        for name, module in peft_model.named_modules():
            if name.endswith("lora_A.default"):
                module.register_forward_pre_hook(lambda _m, args: (args[0].clone(),))
    return peft_model


def _gpu_dropout(model: torch.nn.Module) -> None:
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if isinstance(dropouts, torch.nn.ModuleDict):
            for key, value in list(dropouts.items()):
                if isinstance(value, torch.nn.Dropout):
                    dropouts[key] = _Dropout()


def _decoder_layers(model: torch.nn.Module, count: int) -> torch.nn.ModuleList:
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count:
            return module
    raise TraceError("could not find the decoder layers in the model")


class _SavedCounter:
    """Bytes saved for backward, per storage, attributed to the layer that saved them."""

    def __init__(self, model: torch.nn.Module, layers: torch.nn.ModuleList) -> None:
        state = [*model.parameters(), *model.buffers()]
        self.excluded = {t.untyped_storage()._cdata for t in state}
        self.where: str = "outside"
        self.by_storage: dict[int, tuple[str, int]] = {}
        self._keep: list[torch.Tensor] = []  # keeps storage ids unique during the step
        for index, layer in enumerate(layers):
            layer.register_forward_pre_hook(self._enter(f"layer{index}"))
            layer.register_forward_hook(self._leave)

    def _enter(self, label: str) -> Any:
        def hook(_module: Any, _args: Any) -> None:
            self.where = label

        return hook

    def _leave(self, _module: Any, _args: Any, _out: Any) -> None:
        self.where = "outside"

    def pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        key = storage._cdata
        if key not in self.excluded and key not in self.by_storage:
            self.by_storage[key] = (self.where, storage.nbytes())
            self._keep.append(tensor)
        return tensor

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for where, nbytes in self.by_storage.values():
            out[where] = out.get(where, 0) + nbytes
        return out


@contextmanager
def _counting(counter: _SavedCounter) -> Iterator[None]:
    with torch.autograd.graph.saved_tensors_hooks(counter.pack, lambda t: t):
        yield


def _inputs(batch: int, seq: int) -> dict[str, torch.Tensor]:
    ids = torch.zeros(batch, seq, dtype=torch.long, device="meta")
    # A ready 4-D mask: transformers' mask helpers call .item(), which meta tensors refuse.
    mask = torch.ones(batch, 1, seq, seq, dtype=torch.bool, device="meta")
    return {"input_ids": ids, "attention_mask": mask, "labels": ids}


def _step(model: Any, layers: torch.nn.ModuleList, batch: int, seq: int) -> dict[str, int]:
    counter = _SavedCounter(model, layers)
    model.train()
    with _counting(counter):
        loss = model(**_inputs(batch, seq)).loss
    counter.where = "backward"
    loss.backward()
    return counter.totals()


def _checkpointed(model: Any) -> None:
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.2x
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    if hasattr(model, "enable_input_require_grads"):
        model.enable_input_require_grads()


def _optimizer_bytes(params: list[torch.nn.Parameter], optimizer: str, size: int | None) -> int:
    """State bytes as the optimizers allocate them (bitsandbytes: 8-bit from 4096 elements,
    plus an fp32 absmax per 256 values of each of its two states)."""
    total = 0
    for p in params:
        n = p.numel()
        if optimizer in ("adamw", "paged_adamw"):
            total += 2 * n * (size or p.element_size())
        elif optimizer in ("adamw_8bit", "paged_adamw_8bit"):
            total += 2 * n + 8 * (n // 256) if n >= 4096 else 8 * n
        elif optimizer == "adafactor":
            total += 4 * (sum(p.shape[-2:]) if p.dim() >= 2 else n)
    return total


def run_trace(profile: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Build, step once without and once with checkpointing, and count."""
    with warnings.catch_warnings():  # transformers' deprecation notices are not news here
        warnings.simplefilter("ignore", FutureWarning)
        return _run_trace(profile, config)


def _run_trace(profile: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    settings = _settings(profile)
    batch, seq = settings["batch"], settings["seq"]
    model = build_model(profile, config)
    layers = _decoder_layers(model, int(_text_config(config)["num_hidden_layers"]))
    plain = _step(model, layers, batch, seq)
    _zero_grads(model)
    _checkpointed(model)
    held = _step(model, layers, batch, seq)
    return _result(profile, model, plain, held, settings) | {
        "layers": len(layers),
        "seconds": round(time.perf_counter() - start, 3),
    }


def _zero_grads(model: torch.nn.Module) -> None:
    for p in model.parameters():
        p.grad = None


def _result(
    profile: dict[str, Any],
    model: Any,
    plain: dict[str, int],
    held: dict[str, int],
    settings: dict[str, Any],
) -> dict[str, Any]:
    trainable = [p for p in model.parameters() if p.requires_grad]
    per_layer = [v for k, v in plain.items() if k.startswith("layer")]
    optimizer = str(profile.get("train", {}).get("optimizer", "adamw"))
    # adapters were built in 16-bit to reproduce AMP's saved tensors; state is counted at
    # the dtype the real run keeps them in
    size = settings["adapter_bytes"] if profile.get("lora") is not None else None
    return {
        "model_type": getattr(model.config, "model_type", "?"),
        "batch": settings["batch"],
        "seq": settings["seq"],
        "dtype": str(settings["dtype"]).removeprefix("torch."),
        "attention": "eager" if settings["attn"] == "eager" else "fused (flash/SDPA-like)",
        "params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in trainable),
        "activations_off_bytes": sum(plain.values()),
        "activations_on_bytes": sum(held.values()),
        "layer_max_bytes": max(per_layer, default=0),
        "layer_total_bytes": sum(per_layer),
        "outside_layers_bytes": plain.get("outside", 0),
        "gradient_bytes": sum(
            p.grad.numel() * (size or p.grad.element_size())
            for p in trainable
            if p.grad is not None
        ),
        "optimizer": optimizer,
        "optimizer_bytes": _optimizer_bytes(trainable, optimizer, size),
    }


def format_text(result: dict[str, Any]) -> str:
    """The trace as aligned `name  value` lines (byte counts in MiB)."""
    return "\n".join(f"{key:<22} {_shown(key, value)}" for key, value in result.items())


def _shown(key: str, value: Any) -> str:
    if key.endswith("_bytes"):
        return f"{value / 2**20:,.1f} MiB"
    return f"{value:,}" if isinstance(value, int) else str(value)
