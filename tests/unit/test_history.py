"""The sparkline history: the last N samples, oldest first, gaps where values were unknown."""

from __future__ import annotations

import pytest

from cockpit.hardware.history import History
from cockpit.hardware.snapshot import GIB, GpuSnapshot, HostSnapshot, MachineSnapshot, NvmlStatus


def _snap(cpu: float, *gpus: GpuSnapshot) -> MachineSnapshot:
    host = HostSnapshot(cpu, (cpu,), 1, GIB, 0, GIB, 0, 0, None)
    return MachineSnapshot(0.0, NvmlStatus(True), gpus, host)


def _gpu(index: int, util: float | None, used_gib: float | None) -> GpuSnapshot:
    used = None if used_gib is None else int(used_gib * GIB)
    return GpuSnapshot(
        index=index,
        name="g",
        utilization_pct=util,
        memory_total_bytes=4 * GIB,
        memory_used_bytes=used,
    )


def test_keeps_only_the_last_samples_oldest_first():
    history = History(size=60)
    for i in range(70):
        history.add(_snap(float(i), _gpu(0, float(i), 1.0)))
    assert history.cpu() == [float(i) for i in range(10, 70)]
    assert history.utilization(0) == [float(i) for i in range(10, 70)]


def test_memory_is_the_fraction_of_vram_used():
    history = History()
    history.add(_snap(0, _gpu(0, 50, 1.0)))
    history.add(_snap(0, _gpu(0, 50, 3.0)))
    assert history.memory(0) == [0.25, 0.75]


def test_unknown_values_are_left_out_but_still_age_out_of_the_window():
    history = History(size=3)
    history.add(_snap(1, _gpu(0, 10, 1.0)))
    history.add(_snap(2, _gpu(0, None, None)))
    assert history.utilization(0) == [10.0] and history.memory(0) == [0.25]
    history.add(_snap(3, _gpu(0, 30, 2.0)))
    history.add(_snap(4, _gpu(0, 40, 2.0)))  # pushes out the first sample
    assert history.utilization(0) == [30.0, 40.0]


def test_each_gpu_has_its_own_series_and_a_vanished_gpu_gets_gaps():
    history = History(size=2)
    history.add(_snap(0, _gpu(0, 90, 1.0), _gpu(1, 10, 2.0)))
    assert (history.utilization(0), history.utilization(1)) == ([90.0], [10.0])
    history.add(_snap(0, _gpu(0, 95, 1.0)))
    history.add(_snap(0, _gpu(0, 96, 1.0)))
    assert history.utilization(1) == [] and history.memory(1) == []
    assert history.utilization(7) == [] and history.memory(7) == []


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        History(size=0)
