"""The fallbacks the engine takes on this machine are warned before the start (issue 13).

Seen: the shipped 4 GB QLoRA profile on a machine without a GPU said "✓ ready to start";
that it trains unquantized in 32-bit on CPU, with AdamW instead of the 8-bit optimizer and
PEFT instead of Unsloth, was said only in the log after the model had loaded. Each is now a
warning (the run still starts) naming the key and what to change.
"""

from __future__ import annotations

import pytest

from cockpit.hardware.snapshot import GpuTraits
from cockpit.runs.fallbacks import fallback_warnings, no_cuda_reason
from cockpit.runs.preflight import preflight
from cockpit.runs.stack_check import TrainingStack
from tests.runs_helpers import REPO

QLORA_3050 = REPO / "profiles" / "rtx3050-4gb-llama-3.2-3b-qlora.toml"
RTX_3050 = GpuTraits("NVIDIA GeForce RTX 3050 Laptop GPU", 4.0, (8, 6), "12.4")
CUDA_TORCH = TrainingStack("/envs/train/bin/python", (), "2.6.0+cu124", unsloth=True)


def _check(gpus, stack: TrainingStack):
    return preflight(QLORA_3050, gpus=gpus, hub_probe=None, stack_probe=lambda p: stack, force=True)


def _by_key(check) -> dict[str, str]:
    return {w.key: f"{w.message} — {w.fix}" for w in check.warnings}


def test_without_a_gpu_the_qlora_profile_starts_warned_of_every_fallback():
    check = _check((), CUDA_TORCH)
    assert check.ok  # warnings, not refusals
    said = _by_key(check)
    assert set(said) >= {"model.quantization", "train.optimizer", "model.backend"}
    assert "32-bit on CPU" in said["model.quantization"]
    assert 'model.quantization = "none"' in said["model.quantization"]
    assert "adamw instead" in said["train.optimizer"]
    assert "PEFT LoRA instead" in said["model.backend"]
    assert 'model.backend = "peft"' in said["model.backend"]
    by_id = {w.key: w.catalog_id for w in check.warnings}
    assert by_id["model.quantization"] == "bnb_4bit_requires_cuda_gpu"
    assert all(w.as_warning() in check.notes for w in check.warnings)  # `cockpit train` says them


def test_on_a_cuda_card_with_unsloth_installed_nothing_falls_back():
    assert not _check((RTX_3050,), CUDA_TORCH).warnings


def test_a_cpu_only_torch_sees_no_cuda_even_beside_a_gpu():
    cpu = TrainingStack("/envs/train/bin/python", (), "2.6.0+cpu", unsloth=True)
    said = _by_key(_check((RTX_3050,), cpu))
    assert "CPU-only torch (2.6.0+cpu)" in said["model.quantization"]


def test_cuda_visible_devices_hiding_the_gpus_is_no_cuda(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert "CUDA_VISIBLE_DEVICES" in (no_cuda_reason((RTX_3050,), CUDA_TORCH) or "")


def test_unsloth_not_installed_is_warned_with_the_install_command():
    bare = TrainingStack("/envs/train/bin/python", (), "2.6.0+cu124", unsloth=False)
    said = _by_key(_check((RTX_3050,), bare))
    assert "Unsloth is not installed in /envs/train/bin/python" in said["model.backend"]
    assert "/envs/train/bin/python -m pip install unsloth" in said["model.backend"]


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
def test_a_16_bit_dtype_without_cuda_trains_in_fp32(dtype):
    from dataclasses import replace

    profile = preflight(QLORA_3050, gpu_sizes_gib=(), hub_probe=None).profile
    assert profile is not None
    profile = replace(profile, model=replace(profile.model, dtype=dtype))
    said = {w.key: w.message for w in fallback_warnings(profile, (), CUDA_TORCH)}
    assert "fp32 on CPU" in said["model.dtype"]


def test_on_a_mac_the_fallbacks_say_the_apple_gpu_not_the_cpu():
    """The engine trains on mps there: 4-bit loads unquantized on the GPU, bf16 stays."""
    m2 = GpuTraits("Apple M2 Pro", 16.0, bf16=True, unified_memory=True)
    said = _by_key(_check((m2,), CUDA_TORCH))
    assert "on the Apple GPU (mps)" in said["model.quantization"]
    assert "4× the weights' memory" in said["model.quantization"]
    assert "CPU" not in said["model.quantization"]
    assert "model.dtype" not in said
