"""Training data: formats detected from columns, shaped for TRL, clear errors otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from engines import data
from engines.data import DataError, detect_format, load_rows, resolve_data_path, split_eval

CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
ALPACA = {"instruction": "Add", "input": "2 and 2", "output": "4"}


@pytest.fixture(autouse=True)
def _private_datasets_cache(tmp_path, monkeypatch):
    """Loading a file writes Arrow caches; keep them out of the user's ~/.cache."""
    import datasets  # here, not at collection: importing datasets takes seconds

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")


def _dataset(rows: list[dict]):
    from datasets import Dataset

    return Dataset.from_list(rows)


class _Said(list):
    def __call__(self, level: str, text: str) -> None:
        self.append((level, text))


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["messages"], "chat"),
        (["messages", "id"], "chat"),
        (["instruction", "input", "output"], "instruction"),
        (["instruction", "output"], "instruction"),
        (["prompt", "completion"], "prompt-completion"),
        (["text"], "text"),
        (["text", "meta"], "text"),
    ],
)
def test_auto_detects_each_format_from_its_columns(columns, expected):
    assert detect_format(columns, "auto", "data.jsonl") == expected


def test_grpo_needs_only_prompts():
    assert (
        detect_format(["prompt", "answer"], "auto", "toy.jsonl", grpo=True) == "prompt-completion"
    )
    with pytest.raises(DataError):
        detect_format(["prompt", "answer"], "auto", "toy.jsonl")  # SFT needs the completion


def test_unknown_columns_name_what_was_found_and_what_is_accepted():
    with pytest.raises(DataError) as caught:
        detect_format(["question", "reply"], "auto", "mine.jsonl")
    message = str(caught.value)
    assert "['question', 'reply']" in message and "mine.jsonl" in message
    for accepted in ("'messages'", "'instruction'", "'prompt' + 'completion'", "'text'"):
        assert accepted in message


def test_an_explicit_format_with_a_missing_column_names_it():
    with pytest.raises(DataError, match=r"format 'instruction' needs column\(s\) 'output'"):
        detect_format(["instruction", "input"], "instruction", "a.jsonl")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_local_files_load_by_extension(tmp_path):
    rows = [{"text": f"line {i}"} for i in range(3)]
    jsonl = _write(tmp_path / "a.jsonl", rows)
    _dataset(rows).to_csv(tmp_path / "a.csv", index=False)
    _dataset(rows).to_parquet(tmp_path / "a.parquet")
    for path in (jsonl, tmp_path / "a.csv", tmp_path / "a.parquet"):
        loaded = load_rows(path)
        assert loaded.column_names == ["text"] and len(loaded) == 3, path


def test_missing_and_empty_files_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        load_rows(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="empty dataset"):
        load_rows(tmp_path / "empty.jsonl")


def test_relative_paths_resolve_in_the_given_folders_then_the_shipped_profiles(tmp_path):
    (tmp_path / "mine.jsonl").write_text("{}\n", encoding="utf-8")
    assert resolve_data_path("mine.jsonl", [tmp_path]) == (tmp_path / "mine.jsonl").resolve()
    shipped = resolve_data_path("data/demo.jsonl", [tmp_path])
    assert isinstance(shipped, Path) and shipped.is_file()
    assert resolve_data_path("org/some-dataset", [tmp_path]) == "org/some-dataset"


def test_chat_rows_keep_only_messages_and_get_a_template_when_missing():
    said = _Said()
    tokenizer = SimpleNamespace(chat_template=None)
    rows = data.to_sft(_dataset([{**CHAT, "id": 1}]), "chat", tokenizer, said)
    assert rows.column_names == ["messages"]
    assert tokenizer.chat_template == data.SIMPLE_CHAT_TEMPLATE
    assert said and "no chat template" in said[0][1]


def test_instruction_rows_become_chat_prompt_and_completion_with_a_template():
    rows = data.to_sft(
        _dataset([ALPACA]), "instruction", SimpleNamespace(chat_template="t"), _Said()
    )
    row = rows[0]
    assert row["prompt"] == [{"role": "user", "content": "Add\n\n2 and 2"}]
    assert row["completion"] == [{"role": "assistant", "content": "4"}]


def test_instruction_rows_become_alpaca_text_for_a_base_model():
    rows = data.to_sft(
        _dataset([ALPACA]), "instruction", SimpleNamespace(chat_template=None), _Said()
    )
    assert rows[0]["prompt"].startswith("### Instruction:\nAdd\n\n2 and 2")
    assert rows[0]["completion"] == "4"


def test_rows_with_empty_fields_are_dropped_and_none_left_is_an_error():
    rows = data.to_sft(_dataset([{"text": ""}, {"text": "kept"}]), "text", None, _Said())
    assert rows["text"] == ["kept"]
    with pytest.raises(DataError, match="empty dataset: 0 examples after formatting"):
        data.require_rows(rows.filter(lambda r: False), "x.jsonl")


def test_grpo_chat_rows_become_prompts_with_the_reply_as_answer():
    rows = data.to_grpo(_dataset([CHAT]), "chat", SimpleNamespace(chat_template="t"), _Said())
    assert rows[0]["prompt"] == [{"role": "user", "content": "hi"}]
    assert rows[0]["answer"] == "hello"


def test_grpo_refuses_plain_text():
    with pytest.raises(DataError, match="GRPO needs prompts"):
        data.to_grpo(_dataset([{"text": "x"}]), "text", None, _Said())


def test_eval_split_holds_out_a_fraction_and_keeps_training_rows():
    rows = _dataset([{"text": str(i)} for i in range(20)])
    train, held_out = split_eval(rows, 0.25, seed=1)
    assert (len(train), len(held_out)) == (15, 5)
    assert split_eval(rows, 0.0, seed=1) == (rows, None)
    train, held_out = split_eval(rows.select([0, 1]), 0.01, seed=1)
    assert (len(train), len(held_out)) == (1, 1)
