"""The sampler merges GPUs with the host, never dies of NVML trouble, and feeds `cockpit watch`."""

from __future__ import annotations

import pytest

from cockpit.hardware.format import (
    fmt_bytes,
    fmt_cc,
    fmt_mhz,
    fmt_pct,
    fmt_temp,
    fmt_watts,
    snapshot_lines,
)
from cockpit.hardware.sampler import HardwareSampler, open_sampler
from cockpit.hardware.simulated import UnknownSimulation
from cockpit.hardware.snapshot import (
    GIB,
    MIB,
    DiskUsage,
    GpuProcess,
    GpuSnapshot,
    HostSnapshot,
    NvmlStatus,
)

HOST = HostSnapshot(
    cpu_pct=12.4,
    per_cpu_pct=(10.0, 14.8),
    cpu_count=2,
    ram_total_bytes=int(23.4 * GIB),
    ram_used_bytes=int(5.1 * GIB),
    ram_available_bytes=int(18.3 * GIB),
    swap_total_bytes=0,
    swap_used_bytes=0,
    load_avg=(0.52, 0.40, 0.33),
    disks=(
        DiskUsage("runs", "/home/me", 500 * GIB, 80 * GIB),
        DiskUsage("HF cache", "/data", None, None),
    ),
)


class _FakeHost:
    def __init__(self, known: dict[int, tuple[str | None, str | None]]) -> None:
        self.known = known
        self.asked: list[list[int]] = []

    def sample(self) -> HostSnapshot:
        return HOST

    def describe_processes(self, pids):
        pids = list(pids)
        self.asked.append(pids)
        return {pid: self.known.get(pid, (None, None)) for pid in pids}


class _FakeGpus:
    def __init__(self, gpus: tuple[GpuSnapshot, ...]) -> None:
        self.gpus = gpus

    def status(self) -> NvmlStatus:
        return NvmlStatus(available=True)

    def sample(self):
        return self.status(), self.gpus

    def close(self) -> None:
        pass


class _ExplodingGpus(_FakeGpus):
    def __init__(self) -> None:
        super().__init__(())

    def sample(self):
        raise RuntimeError("driver went away")

    def close(self) -> None:
        raise RuntimeError("still gone")


def _gpu(*processes: GpuProcess) -> GpuSnapshot:
    return GpuSnapshot(index=0, name="NVIDIA GeForce RTX 4090", processes=processes)


def test_gpu_processes_get_user_command_and_run_id_from_the_host():
    gpu = _gpu(
        GpuProcess(4242, None, None, 3 * GIB),
        GpuProcess(1873, None, None, 200 * MIB, kind="graphics"),
        GpuProcess(99, None, None, None),
    )
    host = _FakeHost(
        {
            4242: ("alice", "python -m engines run /home/alice/runs/sft-7"),
            1873: ("root", "/usr/lib/xorg/Xorg"),
        }
    )
    snap = HardwareSampler(_FakeGpus((gpu,)), host, wall_clock=lambda: 123.0).sample()
    assert snap.t == 123.0 and snap.host is HOST
    procs = snap.gpus[0].processes
    assert [(p.pid, p.user, p.cockpit_run) for p in procs] == [
        (4242, "alice", "sft-7"),
        (1873, "root", None),
        (99, None, None),  # a pid the host cannot see (container, gone) stays unknown
    ]
    assert procs[1].command == "/usr/lib/xorg/Xorg" and procs[1].kind == "graphics"
    assert procs[0].used_memory_bytes == 3 * GIB


def test_processes_already_described_are_not_looked_up_on_the_host():
    known = GpuProcess(7, "python -m engines run /r/demo-run", "demo", GIB)
    host = _FakeHost({7: ("someone-else", "bash")})
    snap = HardwareSampler(_FakeGpus((_gpu(known),)), host).sample()
    assert host.asked == []
    assert snap.gpus[0].processes == (
        GpuProcess(7, "python -m engines run /r/demo-run", "demo", GIB, cockpit_run="demo-run"),
    )


def test_no_process_table_stays_none():
    gpu = GpuSnapshot(index=0, name="x", processes=None)
    snap = HardwareSampler(_FakeGpus((gpu,)), _FakeHost({})).sample()
    assert snap.gpus[0].processes is None


def test_an_exploding_gpu_source_becomes_a_status_and_the_host_stays_live():
    sampler = HardwareSampler(_ExplodingGpus(), _FakeHost({}))
    snap = sampler.sample()
    assert not snap.nvml.available and snap.gpus == ()
    assert "driver went away" in (snap.nvml.error or "")
    assert "unexpected error" in (snap.nvml.explanation or "")
    assert snap.host is HOST
    assert snapshot_lines(snap)[0].startswith("GPU  none: RuntimeError('driver went away')")
    sampler.close()  # does not raise either


def test_open_sampler_simulated_and_unknown():
    sampler = open_sampler("2x-a100-40gb", disk_paths={})
    snap = sampler.sample()
    sampler.close()
    assert snap.simulated and [g.index for g in snap.gpus] == [0, 1]
    assert snap.gpus[0].processes[0].cockpit_run == "demo-run"
    with pytest.raises(UnknownSimulation, match="rtx3050-4gb"):
        open_sampler("h100-80gb")


def test_open_sampler_on_this_machine_samples_the_real_host(tmp_path):
    sampler = open_sampler(disk_paths={"runs": str(tmp_path)})
    snap = sampler.sample()
    sampler.close()
    assert not snap.simulated
    assert snap.host.cpu_count >= 1 and snap.host.disks[0].label == "runs"
    assert snap.nvml.available == bool(snap.gpus)
    assert snap.to_json()["host"]["cpu_count"] == snap.host.cpu_count


def test_watch_lines_for_a_simulated_snapshot():
    sampler = open_sampler("rtx3050-4gb", disk_paths={})
    lines = snapshot_lines(sampler.sample())
    assert len(lines) == 2
    assert lines[0].startswith("GPU0 NVIDIA GeForce RTX 3050 Laptop GPU [SIMULATED] | ")
    assert "/4.0 GiB" in lines[0] and "fan n/a" in lines[0] and "/60 W" in lines[0]
    assert lines[1].startswith("host | cpu ")


def test_the_host_line_reads_like_the_design():
    gpu = GpuSnapshot(index=0, name="x")
    snap = HardwareSampler(_FakeGpus((gpu,)), _FakeHost({})).sample()
    assert snapshot_lines(snap)[-1] == (
        "host | cpu 12% (2 cores) | ram 5.1/23.4 GiB | swap 0.0/0.0 GiB"
        " | load 0.52 0.40 0.33 | runs 80 GiB free | HF cache n/a free"
    )


def test_a_gpu_with_nothing_known_shows_na_everywhere():
    line = snapshot_lines(
        HardwareSampler(_FakeGpus((GpuSnapshot(0, "x"),)), _FakeHost({})).sample()
    )[0]
    assert line == (
        "GPU0 x | n/a/n/a GiB n/a | util n/a | n/a | n/a/n/a W | fan n/a"
        " | sm n/a mem n/a | cc n/a | drv n/a CUDA n/a"
    )


@pytest.mark.parametrize("fmt", [fmt_bytes, fmt_pct, fmt_temp, fmt_watts, fmt_mhz, fmt_cc])
def test_every_formatter_shows_none_as_na(fmt):
    assert fmt(None) == "n/a"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (512 * MIB, "512 MiB"),
        (int(3.2 * GIB), "3.2 GiB"),
        (80 * GIB, "80 GiB"),
        (2048 * GIB, "2.0 TiB"),
    ],
)
def test_fmt_bytes(value, text):
    assert fmt_bytes(value) == text


def test_zero_is_shown_as_zero_not_na():
    assert (fmt_pct(0), fmt_watts(0.0), fmt_temp(0), fmt_mhz(0)) == ("0%", "0 W", "0°C", "0 MHz")
    assert fmt_cc((12, 0)) == "12.0"


def test_gpu_memory_gib_lists_every_card_and_nothing_without_a_driver(monkeypatch):
    import cockpit.hardware.nvml as nvml
    from cockpit.hardware.sampler import gpu_memory_gib
    from tests.unit.fake_pynvml import FakeDevice, FakeNvml

    assert gpu_memory_gib() == ()  # this machine: no NVIDIA driver
    real = nvml.NvmlSource
    cards = (FakeDevice(), FakeDevice(memory_total=16 * 1024**3))
    monkeypatch.setattr(nvml, "NvmlSource", lambda: real(FakeNvml(cards)))
    assert gpu_memory_gib() == (4.0, 16.0)
