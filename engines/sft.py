"""Supervised fine-tuning: TRL's SFTTrainer with PEFT LoRA, QLoRA, Unsloth or a full fine-tune."""

from __future__ import annotations

from typing import Any

from engines import data
from engines.job import Job, common_args, prepare_model


def build_trainer(job: Job) -> tuple[Any, int]:
    """(SFTTrainer, number of training examples) for the job."""
    from trl import SFTConfig, SFTTrainer

    settings = job.settings
    # the data first: a bad file fails before a large model loads
    rows, fmt, source = data.load_for(settings.data, job.folders, grpo=False)
    loaded = prepare_model(job)
    detected = " (detected from its columns)" if settings.data.format == "auto" else ""
    job.say("info", f"data: {len(rows)} rows from {source}, format {fmt}{detected}")
    rows = data.to_sft(rows, fmt, loaded.tokenizer, job.say)
    data.require_rows(rows, source)
    train_rows, eval_rows = data.split_eval(rows, settings.data.eval_fraction, settings.train.seed)
    config = SFTConfig(**config_args(job, has_eval=eval_rows is not None))
    trainer = SFTTrainer(
        model=loaded.model,
        args=config,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        processing_class=loaded.tokenizer,
        peft_config=loaded.peft_config,
    )
    return trainer, len(train_rows)


def config_args(job: Job, has_eval: bool) -> dict[str, Any]:
    """SFTConfig keyword arguments: [train] plus the sequence length and packing."""
    args = common_args(job, has_eval)
    args.update(max_length=job.settings.model.max_seq_length, packing=job.settings.train.packing)
    return args
