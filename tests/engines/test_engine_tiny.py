"""The tiny demo model: built once, the same bytes every time, safe to build concurrently."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engines import tiny
from engines.protocol import TINY_LLAMA_CONFIG
from tests.engines.helpers import engine_env

_BUILD = "from engines.tiny import ensure_tiny_model; print(ensure_tiny_model())"


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_two_processes_building_at_once_both_get_one_whole_model(tmp_path):
    env = engine_env(tmp_path)
    procs = [
        subprocess.Popen([sys.executable, "-c", _BUILD], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    target = tmp_path / "cockpit" / "tiny-llama"
    assert outputs == [str(target)] * 2
    assert {"config.json", "model.safetensors", "tokenizer.json", tiny.STAMP_FILE} <= set(
        p.name for p in target.iterdir()
    )
    assert [p.name for p in target.parent.iterdir()] == ["tiny-llama"]  # no temp dirs left


def test_the_build_is_deterministic_and_loads_like_any_local_model(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        out.mkdir()
        tiny.build_tiny_model(out, tiny.demo_data_path())
    assert _files(first) == _files(second)
    config = json.loads((first / "config.json").read_text())
    for key in ("hidden_size", "num_hidden_layers", "vocab_size", "num_key_value_heads"):
        assert config[key] == TINY_LLAMA_CONFIG[key]
    tokenizer = AutoTokenizer.from_pretrained(first)
    model = AutoModelForCausalLM.from_pretrained(first)
    assert len(tokenizer) <= TINY_LLAMA_CONFIG["vocab_size"]
    assert tokenizer.pad_token == tiny.PAD and tokenizer.eos_token == tiny.EOS
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is LoRA?"}], tokenize=False, add_generation_prompt=True
    )
    assert text == "<|user|>\nWhat is LoRA?<|end|>\n<|assistant|>\n"
    assert model.config.pad_token_id == tokenizer.pad_token_id


def test_a_cache_built_from_another_recipe_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv(tiny.CACHE_ENV, str(tmp_path))
    target = tmp_path / "tiny-llama"
    target.mkdir()
    (target / tiny.STAMP_FILE).write_text(json.dumps({"version": -1}), encoding="utf-8")
    assert tiny.ensure_tiny_model() == target
    assert (target / "model.safetensors").is_file()
    stamp = json.loads((target / tiny.STAMP_FILE).read_text())
    assert stamp["config"] == TINY_LLAMA_CONFIG


def test_the_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(tiny.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tiny.tiny_model_dir() == tmp_path / "xdg" / "cockpit" / "tiny-llama"
    monkeypatch.setenv(tiny.CACHE_ENV, str(tmp_path / "override"))
    assert tiny.tiny_model_dir() == tmp_path / "override" / "tiny-llama"
