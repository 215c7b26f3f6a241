"""The data check on a 200k-row chat JSONL with the tiny model's tokenizer.

Goal (issue 14): the full check (read, map, shape, every finding, token lengths through the
chat template, trained tokens, histogram, preview) costs at most 1.5x tokenising the same
rows with the tokenizer alone (`apply_chat_template(..., tokenize=True)` in batches of 1000,
rows already parsed), measured in the same run, one after the other.

Both sides are CPU-bound in this process, so they are timed in CPU seconds of the process
(`time.process_time`, every thread counted) and the benchmark runs in the suite's parallel
step: other tests on the machine slow both sides' wall clock, not their CPU seconds. For the
same reason one round of each is enough (three rounds, taken until 2026-12-07, differed by a
few per cent and cost the suite ~110 CPU seconds more): a median guards wall-clock figures
against the machine's load, which CPU seconds do not carry.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from engines.datacheck import Options, run_check
from engines.profile_schema import TINY_DEMO_MODEL, profile_from_dict

ROWS = 200_000


def _write(path: Path) -> list[list[dict[str, str]]]:
    conversations = []
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(ROWS):
            messages = [
                {"role": "user", "content": f"Question {i}: what does LoRA train, and why?"},
                {
                    "role": "assistant",
                    "content": f"Answer {i}: small adapters" + " beside" * (i % 40),
                },
            ]
            conversations.append(messages)
            handle.write(json.dumps({"messages": messages}) + "\n")
    return conversations


def _tokenise_alone(tokenizer: Any, conversations: list[Any]) -> None:
    for begin in range(0, len(conversations), 1000):
        tokenizer.apply_chat_template(conversations[begin : begin + 1000], tokenize=True)


def test_check_200k_chat_rows(tmp_path, report):
    from engines import tiny

    tokenizer = tiny.build_tokenizer(list(tiny._texts(tiny.demo_data_path())))
    path = tmp_path / "big.jsonl"
    conversations = _write(path)
    raw = {"name": "bench", "model": {"name_or_path": TINY_DEMO_MODEL, "max_seq_length": 64}}
    profile = profile_from_dict({**raw, "data": {"path": str(path)}})
    start = time.process_time()
    result = run_check(profile, (tmp_path,), Options(tokenizer=tokenizer))
    check = time.process_time() - start
    start = time.process_time()
    _tokenise_alone(tokenizer, conversations)
    alone = time.process_time() - start
    assert result["rows"] == ROWS and result["token_lengths"]["over_limit"] > 0
    ratio = report(
        f"data check, {ROWS} chat rows (CPU seconds)",
        check,
        alone,
        "s",
        "<= 1.5x tokenising the rows alone",
    )
    assert ratio < 4
