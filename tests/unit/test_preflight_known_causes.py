"""Pre-flight and the profile rules stop the catalog's preventable causes before a run starts.

Each refusal (or warning, where the engine survives) names the key, the value and the change
that fixes it, and carries the same catalog id `cockpit explain` would give the failed log.
"""

from __future__ import annotations

import inspect
import json
import os
import stat
import sys
from pathlib import Path

import pytest
import tomli_w
import tomllib

from cockpit.hardware.simulated import open_simulated
from cockpit.hardware.snapshot import GpuTraits, gpu_traits
from cockpit.knowledge.catalog import load_entries
from cockpit.profiles import gpu_rules
from cockpit.profiles.validate import parse_profile
from cockpit.runs import preventable, stack_check
from cockpit.runs.preflight import Refusal, preflight
from cockpit.runs.stack_check import TrainingStack
from tests.runs_helpers import REPO, TINY

T4 = GpuTraits("Tesla T4", 15.0, (7, 5), "12.4")
V100 = GpuTraits("Tesla V100-SXM2-16GB", 16.0, (7, 0), "12.4")
RTX_3090 = GpuTraits("NVIDIA GeForce RTX 3090", 24.0, (8, 6), "12.4")
GRPO = REPO / "profiles" / "tiny-grpo-cpu.toml"


@pytest.fixture(autouse=True)
def _cuda_torch(monkeypatch) -> None:
    """The GPU rules are judged as on a GPU machine: the training torch is a CUDA build (this
    machine's may be a CPU wheel, for which pre-flight rightly warns of the fallbacks)."""
    monkeypatch.setattr(
        stack_check, "training_stack", lambda python: TrainingStack(python, (), "2.6.0+cu124")
    )


def _profile(tmp_path: Path, base: Path = TINY, drop: tuple[str, ...] = (), **tables) -> Path:
    """A copy of `base` in tmp_path with some keys changed and some tables dropped; the data
    path stays the shipped one unless a test sets its own."""
    raw = tomllib.loads(base.read_text())
    raw["data"]["path"] = str(base.parent / raw["data"]["path"])
    for table, values in tables.items():
        if isinstance(values, dict):
            raw.setdefault(table, {}).update(values)
        else:
            raw[table] = values
    for table in drop:
        raw.pop(table, None)
    path = tmp_path / "profile.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


def _only(refusals: tuple[Refusal, ...] | list[Refusal], catalog_id: str) -> Refusal:
    found = [r for r in refusals if r.catalog_id == catalog_id]
    assert len(found) == 1, refusals
    return found[0]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# -- every id used here is a catalog cause with a fix ------------------------------------


def test_every_preventable_id_is_a_catalog_cause_with_a_fix():
    entries = {e.id: e for e in load_entries()}
    ids = [
        gpu_rules.BF16_CAUSE,
        gpu_rules.FLASH_ATTN_CAUSE,
        preventable.PACKING_CAUSE,
        preventable.REWARD_COLUMN_CAUSE,
        preventable.DRIVER_CAUSE,
        "grpo_num_generations_batch_mismatch",
        "qlora_no_adapter_attached",
    ]
    for catalog_id in ids:
        assert entries[catalog_id].fix


# -- 1. GRPO batch not divisible by num_generations --------------------------------------


def test_a_grpo_batch_refusal_carries_the_catalog_id(tmp_path):
    path = _profile(tmp_path, GRPO, train={"batch_size": 3, "grad_accum": 1})
    check = preflight(path, gpu_sizes_gib=())
    refusal = _only(check.refusals, "grpo_num_generations_batch_mismatch")
    assert refusal.key == "grpo.num_generations"
    assert "= 3 completions" in refusal.message and refusal.fix.startswith("set ")
    assert "known cause: grpo_num_generations_batch_mismatch" in check.describe()


def test_auto_gpus_grpo_batch_refusal_carries_the_catalog_id(tmp_path):
    path = _profile(tmp_path, GRPO, train={"batch_size": 2}, hardware={"gpus": "auto"})
    check = preflight(path, gpus=(RTX_3090, RTX_3090, RTX_3090))
    refusal = _only(check.refusals, "grpo_num_generations_batch_mismatch")
    assert "× 3 processes" in refusal.message


# -- 2. bf16 and FlashAttention 2 on a card older than Ampere ----------------------------


def test_flash_attention_2_on_a_t4_is_refused_with_key_value_and_fix(tmp_path):
    path = _profile(tmp_path, model={"attn_implementation": "flash_attention_2"})
    check = preflight(path, gpus=(T4,))
    refusal = _only(check.refusals, "flash_attn_unsupported_gpu")
    assert refusal.key == "model.attn_implementation"
    assert refusal.value == '"flash_attention_2"' and "Tesla T4 is sm_75" in refusal.message
    assert 'model.attn_implementation = "sdpa"' in refusal.fix
    assert check.exit_code == 2


def test_bf16_on_a_v100_is_a_warning_because_the_engine_trains_in_fp16(tmp_path):
    check = preflight(_profile(tmp_path, model={"dtype": "bf16"}), gpus=(V100,))
    assert check.ok  # engines.modeling.choose_precision falls back to fp16 by itself
    warning = _only(check.warnings, "bf16_unsupported")
    assert (warning.key, warning.value) == ("model.dtype", '"bf16"')
    assert 'model.dtype = "fp16"' in warning.fix
    assert any("bf16_unsupported" in n and 'dtype = "fp16"' in n for n in check.notes)


def test_an_ampere_card_has_bf16_and_flash_attention(tmp_path):
    model = {"dtype": "bf16", "attn_implementation": "flash_attention_2"}
    check = preflight(_profile(tmp_path, model=model), gpus=(RTX_3090,))
    assert check.ok and not check.warnings


def test_without_a_capability_nothing_is_guessed(tmp_path):
    model = {"dtype": "bf16", "attn_implementation": "flash_attention_2"}
    check = preflight(_profile(tmp_path, model=model), gpu_sizes_gib=(16.0,))
    assert check.ok and not check.warnings


def test_one_process_trains_on_the_newest_card_several_on_every_card(tmp_path):
    model = {"attn_implementation": "flash_attention_2"}
    one = preflight(_profile(tmp_path, model=model), gpus=(T4, RTX_3090))
    assert one.ok
    both = preflight(_profile(tmp_path, model=model, hardware={"gpus": 2}), gpus=(RTX_3090, T4))
    assert _only(both.refusals, "flash_attn_unsupported_gpu").key == "model.attn_implementation"


def test_the_simulated_t4_is_pre_ampere_and_refuses_flash_attention(tmp_path):
    _, gpus = open_simulated("t4-16gb", lambda: 0.0, start_s=60).sample()
    (card,) = gpu_traits(gpus)
    assert (card.name, card.compute_capability, card.cuda_driver_version) == (
        "Tesla T4",
        (7, 5),
        "12.4",
    )
    path = _profile(tmp_path, model={"attn_implementation": "flash_attention_2"})
    assert not preflight(path, gpus=(card,)).ok


# -- 3. a quantized profile without LoRA -------------------------------------------------


@pytest.mark.parametrize("lora", [None, False])
def test_a_quantized_profile_without_lora_is_refused_with_the_catalog_id(tmp_path, lora):
    tables = {} if lora is None else {"lora": lora}
    drop = ("lora",) if lora is None else ()
    path = _profile(tmp_path, drop=drop, model={"quantization": "4bit"}, **tables)
    raw = tomllib.loads(path.read_text())
    _, problems = parse_profile(raw)
    problem = next(p for p in problems if p.catalog_id == "qlora_no_adapter_attached")
    assert (problem.key, problem.value) == ("model.quantization", "4bit")
    assert "add a [lora] table" in (problem.suggestion or "")
    refusal = _only(preflight(path, gpu_sizes_gib=()).refusals, "qlora_no_adapter_attached")
    assert str(refusal).startswith('model.quantization = "4bit": a quantized model trains only')
    assert "add a [lora] table" in refusal.fix


# -- 4. packing with too little data -----------------------------------------------------


def test_packing_too_little_data_is_warned_with_the_estimate(tmp_path):
    data = _jsonl(tmp_path / "three.jsonl", [{"text": "A tiny row."}] * 3)
    path = _profile(tmp_path, data={"path": str(data)}, train={"packing": True})
    check = preflight(path, gpu_sizes_gib=())
    assert check.ok  # TRL packs it into one short sequence and trains a step
    warning = _only(check.warnings, "sft_packing_too_few_samples")
    assert (warning.key, warning.value) == ("train.packing", "true")
    assert "holds 3 rows" in warning.message
    assert "max_seq_length 256 × batch_size 8 = 2048 tokens" in warning.message
    assert "train.packing = false" in warning.fix


def test_packing_enough_data_or_no_packing_is_quiet(tmp_path):
    demo = REPO / "profiles" / "data" / "demo.jsonl"
    packed = preflight(
        _profile(tmp_path, data={"path": str(demo)}, train={"packing": True}), gpu_sizes_gib=()
    )
    data = _jsonl(tmp_path / "three.jsonl", [{"text": "A tiny row."}] * 3)
    unpacked = preflight(_profile(tmp_path, data={"path": str(data)}), gpu_sizes_gib=())
    assert not packed.warnings and not unpacked.warnings


# -- 5. the exact_match reward without an answer column ----------------------------------


def test_exact_match_without_an_answer_column_is_refused(tmp_path):
    data = _jsonl(tmp_path / "prompts.jsonl", [{"prompt": "2 + 2 = ?"}] * 5)
    path = _profile(tmp_path, GRPO, data={"path": str(data), "format": "auto"})
    refusal = _only(
        preflight(path, gpu_sizes_gib=()).refusals, "grpo_reward_missing_dataset_column"
    )
    assert (refusal.key, refusal.value) == ("grpo.rewards", '["format", "exact_match", "length"]')
    assert '"exact_match" reads each row\'s "answer"' in refusal.message
    assert "have only prompt" in refusal.message
    assert (
        'add an "answer" field' in refusal.fix
        and 'grpo.rewards = ["format", "length"]' in refusal.fix
    )


@pytest.mark.parametrize(
    ("rows", "rewards"),
    [
        ([{"prompt": "2 + 2 = ?", "answer": "4"}], ["format", "exact_match"]),
        ([{"prompt": "2 + 2 = ?"}], ["format", "length"]),
        (  # chat rows: the assistant's reply becomes the answer
            [
                {
                    "messages": [
                        {"role": "user", "content": "2+2"},
                        {"role": "assistant", "content": "4"},
                    ]
                }
            ],
            ["exact_match"],
        ),
    ],
)
def test_rewards_with_their_columns_pass(tmp_path, rows, rewards):
    data = _jsonl(tmp_path / "rows.jsonl", rows * 5)
    path = _profile(
        tmp_path, GRPO, data={"path": str(data), "format": "auto"}, grpo={"rewards": rewards}
    )
    assert preflight(path, gpu_sizes_gib=()).ok


def test_a_csv_header_without_answer_is_refused(tmp_path):
    data = tmp_path / "prompts.csv"
    data.write_text("prompt,completion\n2 + 2 = ?,4\n")
    path = _profile(tmp_path, GRPO, data={"path": str(data), "format": "auto"})
    refusal = _only(
        preflight(path, gpu_sizes_gib=()).refusals, "grpo_reward_missing_dataset_column"
    )
    assert "completion, prompt" in refusal.message


def test_reward_columns_and_formats_match_the_engine():
    from engines import data, rewards

    assert set(rewards.BUILTIN_REWARDS) >= set(preventable.REWARD_COLUMNS)
    for name, column in preventable.REWARD_COLUMNS.items():
        assert column in inspect.signature(getattr(rewards, name)).parameters
    for name, column in preventable.GRPO_FORMATS:
        assert data.detect_format([column], "auto", "rows", grpo=True) == name
        assert preventable.grpo_format("auto", {column}) == name


# -- 6. the driver older than the training torch's CUDA ----------------------------------


def _interpreter_with_torch(tmp_path: Path, cuda: str | None) -> str:
    """A stand-in training interpreter whose torch/version.py says `cuda`: it answers the
    'where is torch' question like a real one would."""
    torch = tmp_path / "site" / "torch"
    torch.mkdir(parents=True)
    value = "None" if cuda is None else repr(cuda)
    (torch / "version.py").write_text(f"__version__ = '2.6.0'\ncuda: Optional[str] = {value}\n")
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\necho {torch}\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return str(python)


@pytest.mark.slow  # asks the stand-in interpreter where its torch is, as for a real one
@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for the interpreter")
def test_a_driver_older_than_the_training_torch_is_refused(tmp_path):
    python = _interpreter_with_torch(tmp_path, "12.4")
    old_driver = GpuTraits("NVIDIA GeForce RTX 3050", 4.0, (8, 6), "11.8")
    path = _profile(tmp_path, env={"python": python})
    refusal = _only(preflight(path, gpus=(old_driver,)).refusals, "cuda_driver_too_old")
    assert refusal.key == "env.python" and python in refusal.message
    assert "CUDA 12.4" in refusal.message and "up to 11.8" in refusal.message
    assert "update the NVIDIA driver" in refusal.fix and "cockpit doctor" in refusal.fix


def test_pre_flight_asks_the_training_torch_only_when_a_driver_is_known(tmp_path, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(
        preventable, "torch_cuda_version", lambda python: asked.append(python) or "13.0"
    )
    path = _profile(tmp_path)
    assert preflight(path, gpu_sizes_gib=(4.0,)).ok and not asked
    check = preflight(path, gpus=(GpuTraits("RTX 3050", 4.0, (8, 6), "12.8"),))
    assert asked == [sys.executable]
    assert _only(check.refusals, "cuda_driver_too_old").kind == "env"


@pytest.mark.parametrize(
    ("torch_cuda", "driver", "refused"),
    [
        ("12.4", "11.8", True),
        ("12.4", "12.2", False),
        ("13.0", "13.0", False),
        (None, "11.8", False),
    ],
)
def test_only_a_newer_major_cuda_than_the_driver_is_refused(torch_cuda, driver, refused):
    card = GpuTraits("NVIDIA GeForce RTX 3050", 4.0, (8, 6), driver)
    assert bool(preventable.driver_check((card,), torch_cuda, "python")) == refused


@pytest.mark.parametrize(("cuda", "expected"), [("'12.4'", "12.4"), ("None", None)])
def test_torch_cuda_is_read_from_torch_version_py(tmp_path, monkeypatch, cuda, expected):
    torch = tmp_path / "torch"
    torch.mkdir()
    (torch / "version.py").write_text(f"__version__ = '2.6.0'\ncuda: Optional[str] = {cuda}\n")
    monkeypatch.setattr(preventable, "_torch_folder", lambda python, timeout: str(torch))
    assert preventable.torch_cuda_version("python") == expected


def test_torch_cuda_of_cockpits_own_interpreter_is_read_without_importing_torch():
    before = "torch" in sys.modules
    preventable.torch_cuda_version(sys.executable)
    assert ("torch" in sys.modules) == before
