"""Reinforcement learning with verifiable rewards: TRL's GRPOTrainer with LoRA.

TRL 1.16's GRPOConfig has no `max_prompt_length`, so prompts longer than the profile's
limit are dropped here before training (and the count is said) rather than truncated
mid-sentence.
"""

from __future__ import annotations

from typing import Any

from engines import data, rewards
from engines.job import Job, common_args, prepare_model


def build_trainer(job: Job) -> tuple[Any, int]:
    """(GRPOTrainer, number of training prompts) for the job."""
    from trl import GRPOConfig, GRPOTrainer

    settings, grpo = job.settings, job.settings.grpo
    reward_funcs = rewards.build_rewards(grpo, job.folders)
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
    config = GRPOConfig(**config_args(job, has_eval=eval_rows is not None))
    trainer = GRPOTrainer(
        model=loaded.model,
        reward_funcs=reward_funcs,
        args=config,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        processing_class=loaded.tokenizer,
        peft_config=loaded.peft_config,
    )
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


def config_args(job: Job, has_eval: bool) -> dict[str, Any]:
    """GRPOConfig keyword arguments: [train] plus [grpo]."""
    grpo = job.settings.grpo
    args = common_args(job, has_eval)
    args.update(
        num_generations=grpo.num_generations,
        max_completion_length=grpo.max_completion_length,
        beta=grpo.beta,
    )
    if has_eval:  # every eval batch must hold whole groups of generations
        args["per_device_eval_batch_size"] = grpo.num_generations
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
