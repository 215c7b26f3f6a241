"""Apple Silicon in the engine: without CUDA it trains on `mps` when PyTorch offers it, with
the CUDA precision rules less what this macOS and torch lack, and says so in the log.

No Mac here: torch's own answers (`torch.cuda.is_available`, `torch.backends.mps.*`) are
mocked, the one boundary between the engine and the machine.
"""

from __future__ import annotations

import pytest

from engines.modeling import (
    Runtime,
    choose_precision,
    detect_runtime,
    quantization_bits,
    trainer_device_args,
)
from engines.profile_schema import GrpoSection, ModelSection, Profile

CPU = Runtime(cuda=False, local_rank=0, bf16_ok=False)
AMPERE = Runtime(cuda=True, local_rank=0, bf16_ok=True)
MAC_SONOMA = Runtime(cuda=False, local_rank=0, bf16_ok=True, mps=True)
MAC_VENTURA = Runtime(cuda=False, local_rank=0, bf16_ok=False, mps=True)
MAC_OLD_TORCH = Runtime(cuda=False, local_rank=0, bf16_ok=False, mps=True, fp16_ok=False)


class _Said(list):
    def __call__(self, level: str, text: str) -> None:
        self.append((level, text))

    def text(self) -> str:
        return "\n".join(t for _, t in self)


@pytest.fixture
def mac(monkeypatch):
    """torch on a Mac: no CUDA, mps available; `mac(macos14=..., version=...)` sets the rest."""
    import torch

    def configure(macos14: bool = True, version: str = "2.9.0") -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
        newer = lambda major, minor: macos14 or (major, minor) < (14, 0)  # noqa: E731
        monkeypatch.setattr(torch.backends.mps, "is_macos_or_newer", newer)
        monkeypatch.setattr(torch, "__version__", version)

    return configure


def test_without_cuda_the_engine_picks_apples_gpu_and_says_so(mac):
    mac(macos14=True)
    said = _Said()
    runtime = detect_runtime(said)
    assert runtime.device == "mps" and runtime.bf16_ok and runtime.fp16_ok
    assert not runtime.cuda
    assert said == [
        (
            "info",
            "no CUDA GPU; training on Apple's GPU (mps, unified memory): bf16 available; no "
            "4-bit or 8-bit (bitsandbytes has no mps path); dataloader pin_memory off",
        )
    ]


def test_before_macos_14_mps_has_no_bf16(mac):
    mac(macos14=False)
    said = _Said()
    runtime = detect_runtime(said)
    assert runtime.device == "mps" and not runtime.bf16_ok
    assert "no bf16 before macOS 14" in said.text()


def test_without_cuda_or_mps_it_is_the_cpu_as_before(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    said = _Said()
    assert detect_runtime(said) == CPU and said == []


def test_torch_before_2_8_cannot_train_fp16_on_mps(mac):
    mac(macos14=False, version="2.7.1")
    assert detect_runtime().fp16_ok is False


@pytest.mark.parametrize(
    ("dtype", "runtime", "expected", "warning"),
    [
        ("auto", MAC_SONOMA, "bf16", None),
        ("bf16", MAC_SONOMA, "bf16", None),
        ("auto", MAC_VENTURA, "fp16", None),
        ("bf16", MAC_VENTURA, "fp16", "has bf16 only on macOS 14 or newer; training in fp16"),
        ("fp16", MAC_VENTURA, "fp16", None),
        ("fp32", MAC_SONOMA, "fp32", None),
        ("bf16", MAC_OLD_TORCH, "fp32", "only on macOS 14 or newer; training in fp32 instead"),
        ("fp16", MAC_OLD_TORCH, "fp32", "fp16 on Apple's GPU (mps) needs torch 2.8 or newer"),
        ("auto", MAC_OLD_TORCH, "fp32", None),
    ],
)
def test_precision_on_mps_follows_the_cuda_rules_less_what_it_lacks(
    dtype, runtime, expected, warning
):
    said = _Said()
    assert choose_precision(dtype, runtime, said) == expected
    if warning is None:
        assert said == []
    else:
        assert [level for level, _ in said] == ["warning"] and warning in said.text()


def test_four_bit_on_mps_trains_unquantized_on_the_gpu_and_says_so():
    said = _Said()
    settings = Profile(
        name="", model=ModelSection(name_or_path="m", quantization="4bit"), grpo=GrpoSection()
    )
    assert quantization_bits(settings, MAC_SONOMA, said) is None
    assert said == [
        (
            "warning",
            "4-bit needs a CUDA GPU (bitsandbytes has no mps path); training the unquantized "
            "model on Apple's GPU (mps) instead: its weights take 2-4x the memory",
        )
    ]


@pytest.mark.parametrize(
    ("runtime", "use_cpu", "pin_memory"),
    [(MAC_SONOMA, False, False), (CPU, True, False), (AMPERE, False, True)],
)
def test_the_trainer_runs_on_mps_without_pinned_memory(runtime, use_cpu, pin_memory):
    args = trainer_device_args(runtime)
    assert args == {"use_cpu": use_cpu, "dataloader_pin_memory": pin_memory}


def test_the_trl_config_accepts_the_device_arguments(tmp_path):
    from trl import SFTConfig

    device = trainer_device_args(MAC_SONOMA)
    config = SFTConfig(output_dir=str(tmp_path), bf16=False, fp16=False, **device)
    assert config.use_cpu is False and config.dataloader_pin_memory is False
