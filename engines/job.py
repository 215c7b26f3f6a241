"""What SFT and GRPO share: the loaded model and the profile mapped onto TrainingArguments.

`Job` carries the decisions made so far (device, precision, backend) and the `say`
function that reports them; `prepare_model` loads the model for that backend; and
`common_args` turns [train] into the keyword arguments both TRL configs accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines import modeling
from engines.emitter import Say
from engines.modeling import Runtime
from engines.profile_schema import Profile
from engines.protocol import CHECKPOINTS_DIR

OPTIMIZERS = {
    "adamw": "adamw_torch",
    "adamw_8bit": "adamw_bnb_8bit",
    "paged_adamw_8bit": "paged_adamw_8bit",
    "paged_adamw": "paged_adamw_32bit",
    "adafactor": "adafactor",
    "sgd": "sgd",
}
"""Profile optimizer names → transformers' `optim` names."""
_BNB_OPTIMIZERS = ("adamw_bnb_8bit", "paged_adamw_8bit", "paged_adamw_32bit")


@dataclass
class Job:
    """One run's settings and the choices made for this machine."""

    settings: Profile
    run_dir: Path
    runtime: Runtime
    backend: str
    """"peft", "unsloth" or "full"."""
    precision: str
    say: Say
    folders: tuple[Path, ...] = ()
    """Where relative data paths and user reward modules are looked up (the profile's
    original folder, then the run dir), before the cwd and the shipped profiles."""


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    peft_config: Any | None
    """For the trainer to apply; None when the model already has its adapter (Unsloth)."""


def prepare_model(job: Job) -> LoadedModel:
    """Model and tokenizer for the job's backend, with the pad token fixed."""
    settings, say = job.settings, job.say
    path = modeling.model_path(settings.model.name_or_path)
    if job.backend == "unsloth":
        from engines.unsloth_backend import load_unsloth

        bits = modeling.quantization_bits(settings, job.runtime, say)
        model, tokenizer = load_unsloth(settings, path, job.precision, bits)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
            say("info", f"the tokenizer has no pad token; padding with {tokenizer.eos_token!r}")
        return LoadedModel(model, tokenizer, None)
    tokenizer = modeling.load_tokenizer(path, say)
    model = modeling.load_model(settings, path, job.runtime, job.precision, say)
    modeling.resize_for_tokenizer(model, tokenizer)
    peft = None if settings.lora is None else modeling.lora_config(settings.lora)
    return LoadedModel(model, tokenizer, peft)


def optimizer_name(name: str, runtime: Runtime, say: Say) -> str:
    """transformers' optim name; bitsandbytes optimizers fall back to AdamW without CUDA."""
    optim = OPTIMIZERS.get(name, "adamw_torch")
    if name not in OPTIMIZERS:
        say("warning", f"unknown optimizer {name!r}; using adamw")
    if optim in _BNB_OPTIMIZERS and not runtime.cuda:
        say("warning", f"optimizer {name} needs a CUDA GPU (bitsandbytes); using adamw")
        return "adamw_torch"
    return optim


def gradient_checkpointing(job: Job) -> bool:
    mode = job.settings.train.gradient_checkpointing
    if mode == "unsloth" and job.backend != "unsloth":
        job.say("info", "gradient checkpointing 'unsloth' needs Unsloth; using the standard one")
    return mode != "off"


def common_args(job: Job, has_eval: bool) -> dict[str, Any]:
    """Keyword arguments for SFTConfig / GRPOConfig from the profile's [train] table."""
    train = job.settings.train
    args: dict[str, Any] = {
        "output_dir": str(job.run_dir / CHECKPOINTS_DIR),
        "per_device_train_batch_size": train.batch_size,
        "gradient_accumulation_steps": train.grad_accum,
        "num_train_epochs": train.epochs,
        "max_steps": train.max_steps if train.max_steps > 0 else -1,
        "learning_rate": train.learning_rate,
        "seed": train.seed,
        "optim": optimizer_name(train.optimizer, job.runtime, job.say),
        "bf16": job.precision == "bf16",
        "fp16": job.precision == "fp16",
        **modeling.trainer_device_args(job.runtime),
        "gradient_checkpointing": gradient_checkpointing(job),
        "logging_steps": 1,
        "save_strategy": "steps" if train.save_steps > 0 else "no",
        "report_to": "none",
        "disable_tqdm": True,  # output.log gets one line of logs per step, not progress bars
    }
    if train.save_steps > 0:
        args["save_steps"] = train.save_steps
    if train.save_total_limit > 0:  # also bounds the checkpoint a stop writes
        args["save_total_limit"] = train.save_total_limit
    if has_eval:
        args.update(eval_strategy="steps", eval_steps=0.25)  # a quarter of the run
        args["per_device_eval_batch_size"] = train.batch_size
    return args
