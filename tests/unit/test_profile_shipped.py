"""The shipped profiles and their bundled data: valid, grounded in the seeds, self-consistent."""

from __future__ import annotations

import importlib.util
import json
import operator
import re
from pathlib import Path

import pytest

from cockpit.profiles.store import (
    DEFAULT_PROFILE,
    load_profile_file,
    resolve_data_path,
    shipped_profiles_dir,
)
from engines.profile_schema import TINY_DEMO_MODEL

SHIPPED = shipped_profiles_dir()
NAMES = [
    "tiny-demo-cpu",
    "rtx3050-4gb-llama-3.2-3b-qlora",
    "qwen2.5-0.5b-grpo-toy",
    "qwen2.5-coder-1.5b-qlora-sft",
    "lora-r8-smoke-test",
    "tiny-grpo-cpu",
]


def _profile(name: str):
    loaded = load_profile_file(SHIPPED / f"{name}.toml")
    assert loaded.ok, loaded.error or [str(p) for p in loaded.problems]
    return loaded.profile


def _rows(name: str) -> list[dict]:
    lines = (SHIPPED / "data" / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_exactly_the_documented_profiles_are_shipped():
    assert sorted(p.stem for p in SHIPPED.glob("*.toml")) == sorted(NAMES)
    assert DEFAULT_PROFILE == "tiny-demo-cpu"


@pytest.mark.parametrize("name", NAMES)
def test_each_shipped_profile_loads_with_no_problem_and_finds_its_data(name):
    path = SHIPPED / f"{name}.toml"
    loaded = load_profile_file(path)
    assert loaded.ok and loaded.problems == []
    assert loaded.profile.name == name
    data = resolve_data_path(loaded.profile, path)
    assert isinstance(data, Path) and data.is_file()


@pytest.mark.parametrize("name", NAMES)
def test_each_shipped_profile_says_where_it_comes_from(name):
    header = (SHIPPED / f"{name}.toml").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith(f"# {name} — ")


def _values(profile, *keys: str) -> dict[str, object]:
    """{"model.dtype": "fp32", …} for the dotted keys asked for."""
    out = {}
    for key in keys:
        table, _, name = key.partition(".")
        out[key] = getattr(getattr(profile, table), name)
    return out


def test_the_default_runs_anywhere_on_the_tiny_model():
    p = _profile("tiny-demo-cpu")
    assert p.engine == "sft"
    assert _values(
        p, "model.name_or_path", "model.dtype", "model.max_seq_length", "lora.r",
        "train.batch_size", "train.grad_accum", "train.max_steps",
        "train.gradient_checkpointing", "train.optimizer", "hardware.gpus", "data.path",
    ) == {
        "model.name_or_path": TINY_DEMO_MODEL, "model.dtype": "fp32",
        "model.max_seq_length": 256, "lora.r": 8, "train.batch_size": 8,
        "train.grad_accum": 1, "train.max_steps": 30, "train.gradient_checkpointing": "off",
        "train.optimizer": "adamw", "hardware.gpus": 1, "data.path": "data/demo.jsonl",
    }  # fmt: skip


def test_the_rtx3050_profile_matches_the_4gb_post_mortem():
    p = _profile("rtx3050-4gb-llama-3.2-3b-qlora")
    assert _values(
        p, "model.name_or_path", "model.quantization", "model.backend", "model.max_seq_length",
        "lora.r", "lora.alpha", "train.batch_size", "train.grad_accum", "train.epochs",
        "train.gradient_checkpointing", "train.optimizer",
    ) == {
        "model.name_or_path": "unsloth/Llama-3.2-3B-Instruct-bnb-4bit",
        "model.quantization": "4bit", "model.backend": "unsloth", "model.max_seq_length": 2048,
        "lora.r": 16, "lora.alpha": 16, "train.batch_size": 1, "train.grad_accum": 4,
        "train.epochs": 1.0, "train.gradient_checkpointing": "unsloth",
        "train.optimizer": "adamw_8bit",
    }  # fmt: skip


def test_the_grpo_toy_matches_the_16gb_arpo_toy():
    p = _profile("qwen2.5-0.5b-grpo-toy")
    assert (p.engine, p.model.name_or_path) == ("grpo", "Qwen/Qwen2.5-0.5B-Instruct")
    assert p.grpo.num_generations == 4 and p.train.epochs == 1.0
    assert p.data.path == "data/grpo-toy.jsonl"
    assert (p.train.batch_size * p.train.grad_accum) % p.grpo.num_generations == 0


def test_the_coder_profile_matches_the_cuda_agents_sft_config():
    p = _profile("qwen2.5-coder-1.5b-qlora-sft")
    assert _values(
        p, "model.name_or_path", "model.quantization", "model.max_seq_length", "lora.r",
        "lora.alpha", "lora.dropout", "train.batch_size", "train.learning_rate", "train.epochs",
    ) == {
        "model.name_or_path": "Qwen/Qwen2.5-Coder-1.5B-Instruct", "model.quantization": "4bit",
        "model.max_seq_length": 2048, "lora.r": 16, "lora.alpha": 32, "lora.dropout": 0.1,
        "train.batch_size": 4, "train.learning_rate": 2e-4, "train.epochs": 3.0,
    }  # fmt: skip


def test_the_smoke_test_is_rank_8_one_epoch_three_examples():
    p = _profile("lora-r8-smoke-test")
    assert (p.lora.r, p.train.epochs, p.model.name_or_path) == (8, 1.0, TINY_DEMO_MODEL)
    assert "tiny local model" in p.description
    assert len(_rows("smoke-3.jsonl")) == 3


def _is_chat(row: dict) -> bool:
    roles = [m["role"] for m in row["messages"]]
    return roles == ["user", "assistant"] and all(m["content"].strip() for m in row["messages"])


def test_the_demo_data_is_a_few_hundred_distinct_chat_examples():
    rows = _rows("demo.jsonl")
    assert 200 <= len(rows) <= 400
    assert all(_is_chat(row) for row in rows)
    questions = [row["messages"][0]["content"] for row in rows]
    assert len(set(questions)) == len(questions)
    assert all(_is_chat(row) for row in _rows("smoke-3.jsonl"))


_OPS = {"+": operator.add, "-": operator.sub, "×": operator.mul}


def test_the_grpo_toy_answers_are_right_and_the_format_is_asked_for():
    rows = _rows("grpo-toy.jsonl")
    assert len(rows) == 100
    for row in rows:
        system, user = row["prompt"]
        assert system["role"] == "system" and "<answer>" in system["content"]
        a, op, b = re.fullmatch(r"What is (\d+) ([-+×]) (\d+)\?", user["content"]).groups()
        assert row["answer"] == str(_OPS[op](int(a), int(b)))


def test_the_committed_data_is_what_its_generator_writes():
    spec = importlib.util.spec_from_file_location("generate", SHIPPED / "data" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for name, rows in [
        ("demo.jsonl", generate.demo_examples()),
        ("grpo-toy.jsonl", generate.grpo_examples()),
        ("smoke-3.jsonl", generate.smoke_examples()),
    ]:
        assert _rows(name) == rows, name
