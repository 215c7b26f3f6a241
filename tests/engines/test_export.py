"""Shipping a trained run (`cockpit export`): the merged model, the Ollama Modelfile, and
GGUF's missing converter (llama.cpp's tools cannot be installed from the package index)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engines.helpers import engine_env, make_run_dir, run_engine

RUN_ID = "20261207-130000-tiny-demo-cpu"
MESSAGES = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What does LoRA stand for?"},
            {"role": "assistant", "content": "Low-Rank Adaptation."}]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    cache = tmp_path_factory.mktemp("export-cache")
    runs = tmp_path_factory.mktemp("export-runs")
    env = engine_env(cache)
    train = {"max_steps": 30, "learning_rate": 1e-2, "save_steps": 0}
    run_dir = make_run_dir(runs, "tiny-demo-cpu", RUN_ID, train=train)
    assert run_engine(run_dir, env).returncode == 0
    return run_dir, env


def _export(trained, *args: str) -> subprocess.CompletedProcess:
    run_dir, env = trained
    env = {**env, "COCKPIT_RUNS_DIR": str(run_dir.parent), "PYTHONPATH": ""}
    env.pop("LLAMA_CPP_DIR", None)
    command = [sys.executable, "-m", "cockpit", "export", RUN_ID, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def _greedy(model, tokenizer) -> list[int]:
    import torch

    text = tokenizer.apply_chat_template(MESSAGES[1:2], tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=16, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id)  # fmt: skip
    return out[0, inputs["input_ids"].shape[-1] :].tolist()


def test_merged_loads_alone_and_answers_as_base_plus_adapter(trained, monkeypatch):
    said = _export(trained, "--to", "merged")
    assert said.returncode == 0, said.stderr
    run_dir, env = trained
    merged = run_dir / "exports" / "merged"
    assert f"merged: {merged}" in said.stdout
    assert (merged / "model.safetensors").is_file() and (merged / "tokenizer.json").is_file()
    assert not list((run_dir / "exports").glob(".*"))  # nothing half-written left
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(run_dir / "adapter")
    base_dir = Path(env["COCKPIT_CACHE_DIR"]) / "tiny-llama"
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype="float32")
    tuned = PeftModel.from_pretrained(base, run_dir / "adapter").eval()
    alone = AutoModelForCausalLM.from_pretrained(merged).eval()
    assert _greedy(alone, tokenizer) == _greedy(tuned, tokenizer)


def _render(template: str, system: str | None, prompt: str, response: str) -> str:
    """Ollama's TEMPLATE for one exchange, for the constructs the export writes."""
    branch = re.fullmatch(r"\{\{ if \.System \}\}(.*)\{\{ else \}\}(.*?)\{\{ end \}\}(.*)",
                          template, re.S)  # fmt: skip
    assert branch, template
    with_system, without, rest = branch.groups()
    head = with_system.replace("{{ .System }}", system) if system else without
    return head + rest.replace("{{ .Prompt }}", prompt).replace("{{ .Response }}", response)


def test_ollama_modelfile_renders_as_the_tokenizers_chat_template(trained):
    said = _export(trained, "--to", "ollama", "--name", "tiny", "--system", "Be brief.")
    assert said.returncode == 0, said.stderr
    run_dir, _ = trained
    modelfile = (run_dir / "exports" / "ollama" / "Modelfile").read_text()
    assert f"FROM {(run_dir / 'exports' / 'merged').resolve()}" in modelfile
    assert 'PARAMETER stop "<|end|>"' in modelfile and 'SYSTEM """Be brief."""' in modelfile
    assert "ollama create tiny -f" in said.stdout  # ollama is not installed here: the command
    template = re.search(r'TEMPLATE """(.*?)"""', modelfile, re.S).group(1)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(run_dir / "exports" / "merged")
    for messages in (MESSAGES, MESSAGES[1:]):
        system = messages[0]["content"] if messages[0]["role"] == "system" else None
        expected = tokenizer.apply_chat_template(messages, tokenize=False)
        assert _render(template, system, messages[-2]["content"], messages[-1]["content"]) == (
            expected
        )


def test_gguf_without_llama_cpp_says_what_to_install_and_writes_nothing(trained):
    said = _export(trained, "--to", "gguf", "--quant", "q8_0")
    assert said.returncode == 2
    assert "llama.cpp's converter" in said.stderr and "LLAMA_CPP_DIR" in said.stderr
    assert "requirements-convert_hf_to_gguf.txt" in said.stderr
    run_dir, _ = trained
    assert not list(run_dir.glob("exports/*.gguf*")) and not list(run_dir.glob("exports/.*"))
