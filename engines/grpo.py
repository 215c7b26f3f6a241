"""Reinforcement learning with verifiable rewards: TRL's GRPOTrainer with LoRA.

TRL 1.16's GRPOConfig has no `max_prompt_length`, so prompts longer than the profile's
limit are dropped here before training (and the count is said) rather than truncated
mid-sentence; older TRL (before 1.0) still has the key and gets it too (it truncates
nothing, since no longer prompt is left). vLLM (`[grpo] use_vllm`) is checked before any
model loads: TRL would only fail at the trainer, after the model. Its options are passed
only where the installed GRPOConfig has them (`vllm_mode` came in TRL 0.18).
"""

from __future__ import annotations

import sys
from dataclasses import fields
from importlib.util import find_spec
from typing import Any

from engines import data, rewards
from engines.job import Job, common_args, prepare_model
from engines.samples import SampleRecorder


def build_trainer(job: Job) -> tuple[Any, int]:
    """(GRPOTrainer, number of training prompts) for the job."""
    from trl import GRPOConfig, GRPOTrainer

    settings, grpo = job.settings, job.settings.grpo
    known = config_fields()
    require_vllm(grpo, known)
    recorder = SampleRecorder(grpo.num_generations)
    reward_funcs = recorder.wrap(rewards.build_rewards(grpo, job.folders))
    # the data first: a bad file fails before a large model loads
    rows, fmt, source = data.load_for(settings.data, job.folders, grpo=True)
    loaded = prepare_model(job)
    rows = data.to_grpo(rows, fmt, loaded.tokenizer, job.say)
    _describe(job, rows, fmt, source)
    if "exact_match" in grpo.rewards and "answer" not in rows.column_names:
        raise data.DataError(f"the exact_match reward needs an 'answer' column; {source} has none")
    rows = _drop_long_prompts(rows, loaded.tokenizer, grpo.max_prompt_length, job)
    data.require_rows(rows, source)
    train_rows, eval_rows = data.split_eval(rows, settings.data.eval_fraction, settings.train.seed)
    config = GRPOConfig(**config_args(job, eval_rows is not None, known))
    trainer = GRPOTrainer(
        model=loaded.model,
        reward_funcs=reward_funcs,
        args=config,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        processing_class=loaded.tokenizer,
        peft_config=loaded.peft_config,
    )
    trainer.cockpit_samples = recorder  # the event callback writes what it recorded
    return trainer, len(train_rows)


def _describe(job: Job, rows: Any, fmt: str, source: object) -> None:
    detected = " (detected from its columns)" if job.settings.data.format == "auto" else ""
    label = "prompt" if fmt == "prompt-completion" else fmt  # GRPO writes the completions
    extra = [c for c in rows.column_names if c not in ("prompt", "completion")]
    job.say(
        "info",
        f"data: {len(rows)} prompts from {source}, format {label}{detected}; "
        f"columns passed to the rewards: {', '.join(extra) or 'none'}",
    )


class VllmUnavailable(Exception):
    """`use_vllm = true` but vLLM cannot be used here; the message says what to do."""


def require_vllm(grpo: Any, known: set[str], has_module: Any = find_spec) -> None:
    """Refuse `use_vllm` before any model loads when this interpreter has no vllm, or its
    TRL no vLLM support (`known`: the GRPOConfig field names)."""
    if not grpo.use_vllm:
        return
    if "use_vllm" not in known:
        raise VllmUnavailable(
            "[grpo] use_vllm = true, but the installed TRL's GRPOConfig has no use_vllm; "
            "upgrade trl in the training interpreter or set use_vllm = false"
        )
    if has_module("vllm") is None:
        raise VllmUnavailable(
            f"[grpo] use_vllm = true, but vllm is not installed in the training interpreter "
            f"({sys.executable}); install it there (pip install vllm: Linux with an NVIDIA "
            "GPU) or set use_vllm = false to generate with transformers"
        )


def config_args(job: Job, has_eval: bool, known: set[str] | None = None) -> dict[str, Any]:
    """GRPOConfig keyword arguments: [train] plus [grpo]; `known` (the installed GRPOConfig's
    field names) keeps the version-dependent keys to those it has."""
    grpo = job.settings.grpo
    args = common_args(job, has_eval)
    args.update(
        num_generations=grpo.num_generations,
        max_completion_length=grpo.max_completion_length,
        beta=grpo.beta,
    )
    if has_eval:  # every eval batch must hold whole groups of generations
        args["per_device_eval_batch_size"] = grpo.num_generations
    known = config_fields() if known is None else known
    if "max_prompt_length" in known:  # TRL before 1.0 truncates prompts itself
        args["max_prompt_length"] = grpo.max_prompt_length
    wanted = vllm_args(grpo)
    dropped = sorted(set(wanted) - known)
    if dropped:
        job.say("warning", f"this TRL's GRPOConfig has no {', '.join(dropped)}; its defaults apply")
    args.update({k: v for k, v in wanted.items() if k in known})
    return args


def config_fields() -> set[str]:
    """The installed GRPOConfig's field names."""
    from trl import GRPOConfig

    return {f.name for f in fields(GRPOConfig)}


def vllm_args(grpo: Any) -> dict[str, Any]:
    """The vLLM keys of GRPOConfig for [grpo]; none without use_vllm. vLLM's context is
    the longest prompt plus completion (it would otherwise size its KV cache for the
    model's whole context, which a 0.3 share of a small card cannot hold)."""
    if not grpo.use_vllm:
        return {}
    args: dict[str, Any] = {"use_vllm": True, "vllm_mode": grpo.vllm_mode}
    if grpo.vllm_mode == "colocate":
        args["vllm_gpu_memory_utilization"] = grpo.vllm_gpu_memory_utilization
        args["vllm_max_model_length"] = grpo.max_prompt_length + grpo.max_completion_length
    return args


def prompt_length(prompt: Any, tokenizer: Any) -> int:
    """Tokens of a prompt as the trainer will feed it (chat template applied to messages)."""
    if isinstance(prompt, list):
        ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
        return len(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
    return len(tokenizer(prompt)["input_ids"])


def _drop_long_prompts(rows: Any, tokenizer: Any, limit: int, job: Job) -> Any:
    kept = rows.filter(lambda row: prompt_length(row["prompt"], tokenizer) <= limit)
    dropped = len(rows) - len(kept)
    if dropped:
        job.say(
            "warning",
            f"{dropped} of {len(rows)} prompts are longer than max_prompt_length = {limit} "
            "tokens and were left out",
        )
    return kept
