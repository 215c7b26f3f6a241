"""The data check and training agree: for the tiny demo model, the token counts and trained-
token masks the check reports equal what TRL's SFTTrainer and its collator produce for the
same rows (built as engines/sft.py builds them), in every SFT format, with rows cut by
max_seq_length and rows the trainer drops because nothing trainable is left."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from engines import data, data_tokens
from engines.datacheck import Options, run_check
from engines.profile_schema import TINY_DEMO_MODEL, profile_from_dict
from engines.tiny import CACHE_ENV

LIMIT = 40
LONG = "a long answer that goes on " * 8
CASES: dict[str, list[dict[str, Any]]] = {
    "chat": [
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
            ]
        },
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "What is LoRA?"},
                {"role": "assistant", "content": LONG},
            ]
        },
    ],
    "instruction": [
        {"instruction": "Add", "input": "2 and 3", "output": "5"},
        {"instruction": "Explain LoRA", "output": LONG},
        {"instruction": "Summarise " + "this text " * 30, "input": "", "output": "Short."},
    ],
    "prompt-completion": [
        {"prompt": "Q: What is 2 + 2?\nA:", "completion": " 4"},
        {"prompt": "Q: " + "why " * 40, "completion": " because"},
        {"prompt": "Q: Define LoRA.\nA:", "completion": LONG},
    ],
    "text": [{"text": "Fine-tuning adapts a model."}, {"text": LONG}],
}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from engines.tiny import ensure_tiny_model

    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("cache"))
    try:
        return ensure_tiny_model()
    finally:
        if before is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = before


def _trainer_rows(profile: Any, folder: Path, model_dir: Path, out: Path) -> list[dict[str, Any]]:
    """input_ids and trained mask of every example, from the trainer's collator."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    rows, fmt, _ = data.load_for(profile.data, (folder,), grpo=False)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rows = data.to_sft(rows, fmt, tokenizer, lambda level, text: None)
    config = SFTConfig(output_dir=str(out), max_length=LIMIT, report_to="none", use_cpu=True)
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        args=config,
        train_dataset=rows,
        processing_class=tokenizer,
    )
    examples = [dict(example) for example in trainer.train_dataset]
    batch = trainer.data_collator(examples)
    out_rows = []
    for index, example in enumerate(examples):
        size = len(example["input_ids"])
        labels = batch["labels"][index][:size]
        ids = batch["input_ids"][index][:size].tolist()
        out_rows.append({"ids": ids, "mask": (labels != -100).tolist()})
    return out_rows


@pytest.mark.parametrize("fmt", list(CASES))
def test_the_check_counts_and_masks_what_the_trainer_trains(fmt, tiny_model, tmp_path):
    from transformers import AutoTokenizer

    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in CASES[fmt]), encoding="utf-8")
    profile = profile_from_dict(
        {
            "name": "agree",
            "model": {"name_or_path": TINY_DEMO_MODEL, "max_seq_length": LIMIT},
            "data": {"path": str(path), "format": fmt},
        }
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    options = Options(tokenizer=tokenizer, limit=len(CASES[fmt]))
    report = run_check(profile, (tmp_path,), options)
    trained = _trainer_rows(profile, tmp_path, tiny_model, tmp_path / "out")

    kept = [p for p in report["preview"] if p["trained_tokens"] > 0]
    assert len(kept) == len(trained)
    assert report["trainable"]["zero_rows"] == len(CASES[fmt]) - len(trained)
    assert report["trainable"]["total"] == sum(sum(row["mask"]) for row in trained)
    for seen, row in zip(kept, trained, strict=True):
        assert min(seen["tokens"], LIMIT) == len(row["ids"])
        assert seen["trained_tokens"] == sum(row["mask"])
    shaped = [data.sft_row(r, fmt, True) for r in CASES[fmt]]
    mine = [data_tokens.row_tokens(r, tokenizer, LIMIT) for r in shaped if r is not None]
    mine = [m for m in mine if any(m["mask"])]
    assert [m["ids"] for m in mine] == [row["ids"] for row in trained]
    assert [m["mask"] for m in mine] == [row["mask"] for row in trained]
