"""Apple Silicon on the cockpit side: the Mac's GPU is found (no NVML there), shown with the
host's RAM as its memory, planned against the GPU's share of that RAM, and its bf16 support
(macOS 14 or newer) judged by pre-flight and the Profiles place.

No Mac here: the platform (`platform.system/machine/mac_ver`), `sysctl` and psutil's
`virtual_memory` are mocked, the boundary between cockpit and the machine.
"""

from __future__ import annotations

import subprocess
from collections import namedtuple
from dataclasses import replace

import pytest

from cockpit.hardware import apple, host, sampler
from cockpit.hardware.snapshot import (
    GIB,
    GpuSnapshot,
    GpuTraits,
    HostSnapshot,
    MachineSnapshot,
    NvmlStatus,
    gpu_traits,
    largest_gpu_gib,
    unified_gpu_share,
)
from cockpit.profiles.gpu_rules import BF16_CAUSE, FLASH_ATTN_CAUSE, gpu_problems
from cockpit.profiles.plan import detected_card
from cockpit.runs.preventable import gpu_checks
from engines.profile_schema import GrpoSection, ModelSection, Profile

VirtualMemory = namedtuple("VirtualMemory", "total available")


@pytest.fixture
def mac(monkeypatch):
    """An M2 Pro with 16 GiB on macOS 13.6 (no bf16 for mps), 9 GiB of it in use."""
    monkeypatch.setattr(apple.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(apple.platform, "machine", lambda: "arm64")
    monkeypatch.setattr(apple.platform, "mac_ver", lambda: ("13.6", ("", "", ""), "arm64"))
    asked = []

    def sysctl(args, **kwargs):
        asked.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="Apple M2 Pro\n", stderr="")

    monkeypatch.setattr(apple.subprocess, "run", sysctl)
    memory = VirtualMemory(total=16 * GIB, available=7 * GIB)
    monkeypatch.setattr(host.psutil, "virtual_memory", lambda: memory)
    return asked


def _machine(gpu: GpuSnapshot) -> MachineSnapshot:
    host_snapshot = HostSnapshot(0.0, (), 1, 16 * GIB, 9 * GIB, 7 * GIB, 0, 0, None)
    return MachineSnapshot(0.0, NvmlStatus(available=True), (gpu,), host_snapshot)


def test_on_apple_silicon_the_gpu_is_the_chip_with_the_hosts_ram(mac):
    snapshot = sampler.open_sampler(disk_paths={}).sample()
    assert snapshot.nvml.available and len(snapshot.gpus) == 1
    gpu = snapshot.gpus[0]
    assert gpu.name == "Apple M2 Pro" and gpu.unified_memory
    assert (gpu.memory_total_bytes, gpu.memory_used_bytes) == (16 * GIB, 9 * GIB)
    assert gpu.driver_version == "macOS 13.6" and gpu.bf16 is False
    assert gpu.utilization_pct is None and gpu.temperature_c is None  # shown as n/a
    assert mac == [["sysctl", "-n", "machdep.cpu.brand_string"]]


def test_elsewhere_nvml_stays_the_source(monkeypatch):
    monkeypatch.setattr(apple.platform, "system", lambda: "Darwin")
    monkeypatch.setattr(apple.platform, "machine", lambda: "x86_64")  # an Intel Mac
    assert not apple.is_apple_silicon()
    assert not apple.is_apple_silicon("Linux", "arm64")
    assert apple.is_apple_silicon("Darwin", "arm64")


def test_an_unreadable_chip_name_is_a_generic_one(monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("sysctl")

    monkeypatch.setattr(apple.subprocess, "run", missing)
    assert apple.chip_name() == "Apple Silicon GPU"


@pytest.mark.parametrize(
    ("version", "bf16"), [("14.0", True), ("15.2.1", True), ("13.6", False), ("", None)]
)
def test_bf16_comes_with_macos_14(version, bf16):
    assert apple.bf16_supported(version) is bf16


@pytest.mark.parametrize(
    ("ram_gib", "share_gib"), [(8, 8 * 2 / 3), (16, 16 * 2 / 3), (36, 24), (64, 48), (128, 96)]
)
def test_the_gpu_may_use_two_thirds_of_ram_or_three_quarters_on_big_macs(ram_gib, share_gib):
    assert unified_gpu_share(ram_gib * GIB) / GIB == pytest.approx(share_gib, abs=1e-6)


def test_estimates_plan_against_the_gpus_share_of_unified_memory(mac):
    snapshot = sampler.open_sampler(disk_paths={}).sample()
    card = detected_card(snapshot)
    assert card.gib == pytest.approx(10.67, abs=0.01)  # 2/3 of 16 GiB, not all of it
    assert card.label == "Apple M2 Pro 10.7 GiB (of 16 GiB unified)"
    assert largest_gpu_gib(snapshot) == card.gib
    assert sampler.gpu_memory_gib() == pytest.approx((16 * 2 / 3,))
    (traits,) = sampler.detected_gpu_traits()
    assert traits.memory_gib == pytest.approx(16 * 2 / 3)
    assert traits == GpuTraits("Apple M2 Pro", traits.memory_gib, bf16=False, unified_memory=True)


def test_a_discrete_card_is_still_planned_on_all_its_memory():
    gpu = GpuSnapshot(0, "RTX 4090", memory_total_bytes=24 * GIB, compute_capability=(8, 9))
    assert detected_card(_machine(gpu)).gib == 24
    assert gpu_traits((gpu,))[0].memory_gib == 24 and gpu_traits((gpu,))[0].has_bf16


def _profile(**model: object) -> Profile:
    return Profile(name="", model=ModelSection(name_or_path="m", **model), grpo=GrpoSection())  # type: ignore[arg-type]


MAC_13 = GpuTraits("Apple M2 Pro", 10.7, bf16=False, unified_memory=True)
MAC_14 = replace(MAC_13, bf16=True)


def test_preflight_warns_that_bf16_trains_in_fp16_before_macos_14():
    refusals, warnings = gpu_checks(_profile(dtype="bf16"), [MAC_13], processes=1)
    assert refusals == [] and [w.catalog_id for w in warnings] == [BF16_CAUSE]
    assert "macOS 14 or newer" in warnings[0].message and "fp16" in warnings[0].message
    assert gpu_checks(_profile(dtype="bf16"), [MAC_14], processes=1) == ([], [])


def test_flash_attention_2_is_refused_on_apples_gpu():
    problems = gpu_problems(_profile(attn_implementation="flash_attention_2").model, MAC_14)
    assert [(p.catalog_id, p.severity) for p in problems] == [(FLASH_ATTN_CAUSE, "error")]
    assert "needs a CUDA GPU" in problems[0].message
