"""Simulated GPUs: the right card, plausible moving values, and a frozen clock freezes them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.hardware.format import snapshot_lines
from cockpit.hardware.simulated import (
    SIMULATED_MACHINES,
    SimulatedSource,
    UnknownSimulation,
    open_simulated,
)
from cockpit.hardware.snapshot import GIB, HostSnapshot, MachineSnapshot

HOST = HostSnapshot(12.0, (12.0, 12.0), 2, 24 * GIB, 5 * GIB, 19 * GIB, 0, 0, (0.5, 0.4, 0.3))


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _at(name: str, elapsed: float):
    clock = _Clock()
    source = SimulatedSource(name, clock)
    clock.now += elapsed
    return source.sample()


@pytest.mark.parametrize(
    ("name", "cards", "gib", "cc"),
    [
        ("rtx3050-4gb", ["NVIDIA GeForce RTX 3050 Laptop GPU"], 4, (8, 6)),
        ("rtx5070ti-16gb", ["NVIDIA GeForce RTX 5070 Ti"], 16, (12, 0)),
        ("wsl-rtx5070ti-16gb", ["NVIDIA GeForce RTX 5070 Ti"], 16, (12, 0)),
        ("rtx4090-24gb", ["NVIDIA GeForce RTX 4090"], 24, (8, 9)),
        ("2x-a100-40gb", ["NVIDIA A100-SXM4-40GB"] * 2, 40, (8, 0)),
    ],
)
def test_each_simulation_gives_its_cards_and_is_labelled(name, cards, gib, cc):
    status, gpus = _at(name, 60)
    assert status.available and status.simulated == name
    assert [g.name for g in gpus] == cards
    assert [g.index for g in gpus] == list(range(len(cards)))
    for gpu in gpus:
        assert gpu.simulated and gpu.memory_total_bytes == gib * GIB
        assert gpu.compute_capability == cc
        assert (gpu.driver_version, gpu.cuda_driver_version) == ("591.44", "13.1")
    lines = snapshot_lines(MachineSnapshot(0.0, status, gpus, HOST))
    assert all("[SIMULATED]" in line and cards[0] in line for line in lines[:-1])
    assert lines[-1].startswith("host | cpu 12% (2 cores)")


def test_the_laptop_card_has_no_fan_reading_and_a_60w_limit():
    _, (gpu,) = _at("rtx3050-4gb", 300)
    assert gpu.fan_pct is None and gpu.power_limit_w == 60
    line = snapshot_lines(MachineSnapshot(0.0, _at("rtx3050-4gb", 300)[0], (gpu,), HOST))[0]
    assert "fan n/a" in line and "cc 8.6" in line and "drv 591.44 CUDA 13.1" in line


def test_the_demo_run_is_a_cockpit_run_and_wsl_hides_process_memory():
    _, (gpu,) = _at("rtx5070ti-16gb", 60)
    _, (wsl,) = _at("wsl-rtx5070ti-16gb", 60)
    run = gpu.processes[0]
    assert run.cockpit_run == "demo-run" and "-m engines run" in (run.command or "")
    assert run.used_memory_bytes is not None and run.used_memory_bytes > 8 * GIB
    assert wsl.processes is not None and len(wsl.processes) == len(gpu.processes)
    assert all(p.used_memory_bytes is None for p in wsl.processes)


def test_training_load_vram_ramps_then_holds_and_temperature_lags():
    _, (loading,) = _at("rtx3050-4gb", 2)
    _, (early,) = _at("rtx3050-4gb", 40)
    _, (late,) = _at("rtx3050-4gb", 600)
    assert loading.memory_used_bytes < early.memory_used_bytes
    assert abs(late.memory_used_bytes - early.memory_used_bytes) < 0.02 * 4 * GIB
    assert loading.utilization_pct < 20 and early.utilization_pct > 90
    assert late.temperature_c > early.temperature_c + 10  # heats up over minutes


def test_values_move_over_time_but_not_in_jumps():
    clock = _Clock()
    source = SimulatedSource("rtx5070ti-16gb", clock, start_s=60)
    temps, utils = [], []
    for _ in range(30):
        clock.now += 1
        (gpu,) = source.sample()[1]
        temps.append(gpu.temperature_c)
        utils.append(gpu.utilization_pct)
    assert len(set(utils)) > 10 and len(set(temps)) > 5
    assert max(abs(a - b) for a, b in itertools.pairwise(temps)) < 2.0


def test_a_frozen_clock_gives_the_same_snapshot_every_time():
    first = SimulatedSource("2x-a100-40gb", _Clock(5.0), start_s=90).sample()
    again = SimulatedSource("2x-a100-40gb", _Clock(5.0), start_s=90)
    assert again.sample() == first and again.sample() == first
    assert first[1][0] != first[1][1]  # the two cards do not move in lockstep


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(sorted(SIMULATED_MACHINES)),
    elapsed=st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_values_stay_within_physical_bounds(name, elapsed):
    for gpu in _at(name, elapsed)[1]:
        assert 0 <= gpu.utilization_pct <= 100
        assert 0 <= gpu.memory_utilization_pct <= 100
        assert 0 < gpu.memory_used_bytes <= gpu.memory_total_bytes
        assert 0 < gpu.power_draw_w <= gpu.power_limit_w
        assert 20 <= gpu.temperature_c <= 90
        assert gpu.fan_pct is None or 0 <= gpu.fan_pct <= 100
        assert 0 < gpu.clock_sm_mhz <= 3000 and gpu.clock_mem_mhz > 0
        held = sum(p.used_memory_bytes or 0 for p in gpu.processes)
        assert held <= gpu.memory_used_bytes


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(UnknownSimulation) as caught:
        open_simulated("rtx9090")
    message = str(caught.value)
    assert "rtx9090" in message
    assert all(name in message for name in SIMULATED_MACHINES)
    assert isinstance(caught.value, ValueError)
