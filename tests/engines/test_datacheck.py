"""The data check on deliberately broken and varied files: each finding id with its lines.

One real tokenizer for the module: the tiny demo model's (the same recipe, built in memory
from the bundled demo data, no model weights needed).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engines.datacheck import Options, run_check
from engines.profile_schema import TINY_DEMO_MODEL, profile_from_dict
from tests.engines.helpers import ROOT, engine_env

CHAT = [
    {"role": "user", "content": "What is LoRA?"},
    {"role": "assistant", "content": "Small adapter matrices beside frozen weights."},
]


@pytest.fixture(scope="module")
def tokenizer():
    from engines import tiny

    return tiny.build_tokenizer(list(tiny._texts(tiny.demo_data_path())))


def _chat(answer: str = "Small adapters.", question: str = "What is LoRA?") -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def _jsonl(path: Path, rows: list[Any]) -> Path:
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    return path


def _profile(data_path: Path, engine: str = "sft", **tables: dict[str, Any]) -> Any:
    raw: dict[str, Any] = {
        "name": "t",
        "engine": engine,
        "model": {"name_or_path": TINY_DEMO_MODEL, "max_seq_length": 256},
        "data": {"path": str(data_path)},
        "train": {"batch_size": 1, "grad_accum": 1},
    }
    for table, values in tables.items():
        raw.setdefault(table, {}).update(values)
    return profile_from_dict(raw)


def _check(path: Path, tokenizer: Any, engine: str = "sft", rows=(), **tables) -> dict[str, Any]:
    options = Options(lines=rows, tokenizer=tokenizer)
    return run_check(_profile(path, engine, **tables), (path.parent,), options)


def _found(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in report["findings"]}


def test_a_clean_chat_file_has_no_findings_and_reports_every_figure(tmp_path, tokenizer):
    report = _check(
        _jsonl(tmp_path / "d.jsonl", [_chat(f"answer {i}") for i in range(4)]), tokenizer
    )
    assert report["ok"] and report["findings"] == []
    assert (report["rows"], report["format"], report["encoding"]) == (4, "chat", "UTF-8")
    assert report["mapping"] == {"messages": "messages"}
    lengths = report["token_lengths"]
    assert lengths["limit"] == 256 and 0 < lengths["p50"] <= lengths["max"] < 256
    assert sum(b["count"] for b in lengths["histogram"]) == 4
    assert report["trainable"]["trained_on"] == "whole sequence"
    assert report["steps_per_epoch"] == 4 and report["tokens_per_epoch"] > 0
    segments = report["preview"][0]["segments"]
    assert "".join(s["text"] for s in segments).startswith("<|user|>\nWhat is LoRA?<|end|>")


def test_missing_file(tmp_path, tokenizer):
    found = _found(_check(tmp_path / "nope.jsonl", tokenizer))
    assert found["data_file_missing"]["severity"] == "error"


def test_utf16_and_gbk_files_are_unreadable_and_named(tmp_path, tokenizer):
    text = json.dumps(_chat("你好，这是一个中文回答。" * 3), ensure_ascii=False) + "\n"
    (tmp_path / "u16.jsonl").write_bytes(text.encode("utf-16"))
    (tmp_path / "gbk.jsonl").write_bytes(text.encode("gbk"))
    u16 = _found(_check(tmp_path / "u16.jsonl", tokenizer))["data_unreadable"]
    gbk = _found(_check(tmp_path / "gbk.jsonl", tokenizer))["data_unreadable"]
    assert "UTF-16" in u16["detail"] and "iconv -f UTF-16" in u16["fix"]
    assert "GBK" in gbk["detail"] and "iconv -f GBK" in gbk["fix"]


def test_every_malformed_jsonl_line_is_named_with_the_parsers_words(tmp_path, tokenizer):
    rows = [_chat(), '{"messages": [}', _chat("b"), "[1, 2]", "", '{"messages": "x",}']
    report = _check(_jsonl(tmp_path / "d.jsonl", rows), tokenizer)
    bad = _found(report)["data_malformed_line"]
    assert bad["lines"] == [2, 4, 6] and bad["count"] == 3 and not report["ok"]
    notes = {n["line"]: n["note"] for n in bad["line_notes"]}
    assert "Expecting value" in notes[2] and "not an object" in notes[4]


def test_unknown_columns_are_listed_with_a_suggested_mapping(tmp_path, tokenizer):
    path = _jsonl(tmp_path / "d.jsonl", [{"question": "q", "reply": "r", "id": 1}])
    unknown = _found(_check(path, tokenizer))["data_format_unknown"]
    assert "'question'" in unknown["detail"] and "'reply'" in unknown["detail"]
    assert 'prompt = "question"' in unknown["fix"] and 'completion = "reply"' in unknown["fix"]


def test_a_columns_mapping_makes_any_file_usable(tmp_path, tokenizer):
    path = _jsonl(tmp_path / "d.jsonl", [{"question": f"q{i}", "reply": "r"} for i in range(2)])
    report = _check(
        path, tokenizer, data={"columns": {"prompt": "question", "completion": "reply"}}
    )
    assert report["ok"], report["findings"]
    assert report["format"] == "prompt-completion"
    assert report["mapping"] == {"question": "prompt", "reply": "completion"}
    assert "[data] columns" in report["format_reason"]


def test_rows_with_other_keys_are_a_mixed_schema_warning(tmp_path, tokenizer):
    path = _jsonl(tmp_path / "d.jsonl", [_chat("a"), _chat("b"), {**_chat("c"), "id": 3}])
    mixed = _found(_check(path, tokenizer))["data_mixed_schema"]
    assert (mixed["severity"], mixed["lines"]) == ("warning", [3])


def test_empty_assistant_replies(tmp_path, tokenizer):
    path = _jsonl(tmp_path / "d.jsonl", [_chat("a"), _chat(""), _chat("c")])
    assert _found(_check(path, tokenizer))["data_empty_field"]["lines"] == [2]


def test_duplicates_name_the_row_they_repeat(tmp_path, tokenizer):
    path = _jsonl(tmp_path / "d.jsonl", [_chat("a"), _chat("b"), _chat("a")])
    dup = _found(_check(path, tokenizer))["data_duplicates"]
    assert (dup["severity"], dup["lines"]) == ("warning", [3]) and "3 repeats 1" in dup["detail"]


def test_rows_over_max_seq_length_are_truncated_with_their_share(tmp_path, tokenizer):
    rows = [_chat("short"), _chat("a long answer " * 40), _chat("b")]
    report = _check(_jsonl(tmp_path / "d.jsonl", rows), tokenizer, model={"max_seq_length": 40})
    cut = _found(report)["data_truncated"]
    assert (cut["severity"], cut["lines"]) == ("warning", [2]) and "33.3 %" in cut["detail"]
    assert report["token_lengths"]["over_limit"] == 1 and report["token_lengths"]["tokens_lost"] > 0
    assert report["preview"][1]["cut_text"]


def test_completions_cut_off_entirely_train_nothing(tmp_path, tokenizer):
    rows = [{"prompt": "word " * 80, "completion": "answer"}, {"prompt": "hi", "completion": "ok"}]
    report = _check(_jsonl(tmp_path / "d.jsonl", rows), tokenizer, model={"max_seq_length": 30})
    none = _found(report)["data_no_trainable_tokens"]
    assert (none["severity"], none["lines"]) == ("error", [1])  # 50 % of the rows
    assert (
        report["trainable"]["zero_rows"] == 1 and report["trainable"]["trained_on"] == "completion"
    )


def test_chat_data_on_a_tokenizer_without_template_names_the_fallback(tmp_path, tokenizer):
    bare = tokenizer.__class__.from_pretrained(_saved(tokenizer, tmp_path))
    bare.chat_template = None
    report = _check(_jsonl(tmp_path / "d.jsonl", [_chat()]), bare)
    missing = _found(report)["data_chat_template_missing"]
    assert "SIMPLE_CHAT_TEMPLATE" in missing["detail"]
    assert report["tokenizer"]["chat_template"] == "fallback"


def _saved(tokenizer: Any, tmp_path: Path) -> Path:
    out = tmp_path / "tok"
    tokenizer.save_pretrained(out)
    return out


def test_conversations_that_do_not_alternate_or_end_on_the_user(tmp_path, tokenizer):
    twice = {"messages": [CHAT[0], CHAT[0], CHAT[1]]}
    open_ended = {"messages": [CHAT[0]]}
    odd_role = {"messages": [{"role": "robot", "content": "x"}, CHAT[1]]}
    path = _jsonl(tmp_path / "d.jsonl", [_chat(), twice, open_ended, odd_role])
    roles = _found(_check(path, tokenizer))["data_bad_roles"]
    assert roles["lines"] == [2, 3, 4] and "two user turns in a row" in roles["detail"]


def test_fewer_rows_than_one_optimizer_step(tmp_path, tokenizer):
    path = _jsonl(tmp_path / "d.jsonl", [_chat("a"), _chat("b"), _chat("c")])
    few = _found(_check(path, tokenizer, train={"batch_size": 2, "grad_accum": 4}))
    assert "= 8" in few["data_too_few_rows"]["detail"]


def test_grpo_reward_column_missing_and_prompts_too_long(tmp_path, tokenizer):
    rows = [{"prompt": "What is 2 + 2?"}, {"prompt": "count " * 100}]
    report = _check(
        _jsonl(tmp_path / "d.jsonl", rows),
        tokenizer,
        engine="grpo",
        grpo={"max_prompt_length": 32, "rewards": ["format", "exact_match"], "num_generations": 2},
    )
    found = _found(report)
    assert "'answer'" in found["grpo_missing_column"]["detail"]
    assert found["grpo_prompt_too_long"]["lines"] == [2]
    assert report["grpo"]["rewards"][1] == {
        "name": "exact_match",
        "needs": ["answer"],
        "missing": ["answer"],
    }
    assert report["token_lengths"]["of"] == "prompt"


def test_sharegpt_roles_are_mapped_and_shown_as_the_model_sees_them(tmp_path, tokenizer):
    turns = [
        {"from": "system", "value": "Be brief."},
        {"from": "human", "value": "Hi"},
        {"from": "gpt", "value": "Hello."},
    ]
    report = _check(_jsonl(tmp_path / "d.jsonl", [{"conversations": turns}]), tokenizer)
    assert report["ok"], report["findings"]
    assert (
        report["mapping"] == {"conversations": "messages"} and "ShareGPT" in report["format_reason"]
    )
    text = "".join(s["text"] for s in report["preview"][0]["segments"])
    assert text.startswith(
        "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello."
    )


def test_alpaca_with_input_trains_only_the_output(tmp_path, tokenizer):
    row = {"instruction": "Add the numbers", "input": "2 and 3", "output": "5"}
    report = _check(_jsonl(tmp_path / "d.jsonl", [row]), tokenizer)
    assert report["format"] == "instruction" and report["mapping"]["input"] == "input"
    segments = report["preview"][0]["segments"]
    assert [s["trained"] for s in segments] == [False, True]
    assert "Add the numbers\n\n2 and 3" in segments[0]["text"] and segments[1]["text"].startswith(
        "5"
    )


def test_csv_rows_count_the_header_as_line_one(tmp_path, tokenizer):
    path = tmp_path / "d.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows([["prompt", "completion"], ["a", "b"], ["multi\nline", "c"], ["x"]])
        writer.writerow(["a", "b"])
    report = _check(path, tokenizer, rows=(3,))
    found = _found(report)
    assert found["data_malformed_line"]["lines"] == [5]  # the 1-field row after a 2-line row
    assert found["data_duplicates"]["lines"] == [6]
    assert [p["line"] for p in report["preview"]] == [2, 3, 6] and report["file_kind"] == "csv"
    assert "multi\nline" in report["preview"][1]["segments"][0]["text"]


def test_parquet_rows_are_numbered_from_one(tmp_path, tokenizer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([{"text": "one row"}, {"text": ""}, {"text": "three"}])
    pq.write_table(table, tmp_path / "d.parquet")
    report = _check(tmp_path / "d.parquet", tokenizer)
    assert report["file_kind"] == "parquet" and report["format"] == "text"
    assert _found(report)["data_empty_field"]["lines"] == [2] and report["rows_used"] == 2


def test_a_200k_row_file_without_the_tokenizer_still_finds_its_bad_line(tmp_path):
    row = json.dumps(_chat())
    lines = [row] * 200_000
    lines[199_990] = row[:-5]
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    profile = _profile(tmp_path / "big.jsonl", model={"name_or_path": str(tmp_path / "no-model")})
    report = run_check(profile, (tmp_path,))
    assert report["rows"] == 199_999 and report["tokenizer"]["offline"]
    assert "no tokenizer" in report["tokenizer"]["note"] and report["token_lengths"] is None
    assert _found(report)["data_malformed_line"]["lines"] == [199_991]
    assert report["steps_per_epoch"] == 199_999 and report["preview"][0]["row"] == _chat()


def test_the_command_prints_one_json_object_and_progress(tmp_path):
    data = _jsonl(tmp_path / "d.jsonl", [_chat(), "{oops", _chat("b")])
    profile = tmp_path / "p.toml"
    model = tmp_path / "none"
    text = f'name = "p"\n[model]\nname_or_path = "{model}"\n[data]\npath = "{data.name}"\n'
    profile.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "engines", "data", str(profile), "--json", "--rows", "3"],
        capture_output=True,
        text=True,
        env=engine_env(tmp_path),
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [f["id"] for f in report["findings"]] == ["data_malformed_line"]
    assert report["findings"][0]["lines"] == [2]
    assert "progress 1.00" in done.stderr.splitlines()


def test_training_names_the_malformed_line_before_loading_any_model(tmp_path):
    from engines import data

    path = _jsonl(tmp_path / "d.jsonl", [_chat()] * 15 + ['{"messages": [] "x": 1}', _chat()])
    with pytest.raises(data.DataError) as caught:
        data.load_for(_profile(path).data, (tmp_path,), grpo=False)
    assert "line 16: Expecting ',' delimiter" in str(caught.value)
