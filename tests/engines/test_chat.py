"""Talking to a trained run: the real chat engine process over its line protocol, and
`cockpit try` (tiny demo model on CPU, trained here for real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.runs.chat import Answer, ChatEngine, ChatError, Generation
from cockpit.runs.store import RunDir
from tests.engines.helpers import engine_env, make_run_dir, run_engine

RUN_ID = "20261207-120000-tiny-chat"
PROMPT = "What does LoRA stand for?"
"""A question of the demo data (profiles/data/demo.jsonl, line 2)."""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chat-cache")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> Path:
    """A finished tiny run (lr 1e-2 over 60 steps: the adapter moves the greedy answer)."""
    runs = tmp_path_factory.mktemp("chat-runs")
    train = {"max_steps": 60, "learning_rate": 1e-2, "save_steps": 30}
    run_dir = make_run_dir(runs, "tiny-demo-cpu", name=RUN_ID, train=train)
    assert run_engine(run_dir, engine_env(cache)).returncode == 0
    return run_dir


@pytest.fixture
def offline(monkeypatch, cache: Path, trained: Path) -> Path:
    """This test's engine processes: offline, the module's tiny-model cache, the runs root."""
    for key, value in engine_env(cache).items():
        if key != "PYTHONPATH":
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(trained.parent))
    return trained


def test_tokens_stream_then_the_answer_and_the_base_answers_differently(offline):
    with ChatEngine(RunDir(offline)) as engine:
        ready = engine.wait_ready()
        assert ready["weights"] == str(offline / "adapter") and ready["can_compare"]
        assert ready["template"] == "chat" and ready["device"] == "cpu"
        pieces = list(engine.ask([{"role": "user", "content": PROMPT}], Generation(24)))
        *texts, answer = pieces
        assert isinstance(answer, Answer) and answer.adapter and answer.tokens == 24
        assert len(texts) > 1 and "".join(texts) == answer.text  # progressively, then whole
        assert answer.tokens_per_s and answer.first_token_s is not None
        base = engine.answer([{"role": "user", "content": PROMPT}], Generation(24), adapter=False)
        assert not base.adapter and base.text != answer.text  # the adapter changed something
        again = engine.answer([{"role": "user", "content": PROMPT}], Generation(24))
        assert again.text == answer.text  # greedy: the same answer each time, model kept warm


def test_a_generation_stops_when_asked(offline):
    with ChatEngine(RunDir(offline)) as engine:
        pieces = engine.ask([{"role": "user", "content": PROMPT}], Generation(400))
        next(pieces)  # the first text is out: stop the rest
        engine.stop()
        *_, answer = pieces
        assert isinstance(answer, Answer) and answer.stopped and answer.tokens < 400


def test_a_checkpoint_can_be_talked_to_and_a_missing_one_is_named(offline):
    with ChatEngine(RunDir(offline), checkpoint=30) as engine:
        assert engine.wait_ready()["weights"].endswith("checkpoints/checkpoint-30")
    with pytest.raises(ChatError, match=r"no checkpoint-7 in .* \(saved: checkpoint-30, "):
        ChatEngine(RunDir(offline), checkpoint=7).wait_ready()


def test_cockpit_try_json_prints_both_answers(offline):
    said = subprocess.run(
        [sys.executable, "-m", "cockpit", "try", RUN_ID[:-5], "--prompt", PROMPT, "--compare",
         "--json", "--max-new-tokens", "16"],
        capture_output=True, text=True, timeout=240, env=os.environ | {"PYTHONPATH": ""},
    )  # fmt: skip
    assert said.returncode == 0, said.stderr
    body = json.loads(said.stdout)
    assert body["run"] == RUN_ID and body["prompt"] == PROMPT
    tuned, base = body["answers"]["tuned"], body["answers"]["base"]
    assert tuned["adapter"] is True and base["adapter"] is False
    assert tuned["tokens"] == base["tokens"] == 16 and tuned["text"] != base["text"]


def test_a_run_with_nothing_trained_says_so(offline, tmp_path):
    empty = make_run_dir(tmp_path, "tiny-demo-cpu", name="untrained")
    with pytest.raises(ChatError, match="has no adapter and no checkpoint yet"):
        ChatEngine(RunDir(empty)).wait_ready()


def test_sampling_rows_of_its_data_with_their_reference_answers(offline):
    said = subprocess.run(
        [sys.executable, "-m", "cockpit", "try", RUN_ID, "--sample", "2", "--json",
         "--max-new-tokens", "8"],
        capture_output=True, text=True, timeout=240, env=os.environ | {"PYTHONPATH": ""},
    )  # fmt: skip
    assert said.returncode == 0, said.stderr
    body = json.loads(said.stdout)
    assert body["split"] == "train"  # the demo holds no rows out: rows it trained on
    first = body["samples"][0]
    assert first["messages"] == [{"role": "user", "content": "What is fine-tuning?"}]
    assert first["reference"].startswith("Continuing to train a pretrained model")
    assert set(first["answers"]) == {"tuned", "base"} and len(body["samples"]) == 2
