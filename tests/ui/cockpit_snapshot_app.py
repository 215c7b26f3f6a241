"""A CockpitApp wired to fixtures: a simulated RTX 3050 on a clock that only moves when a
test says so, a host that reports fixed numbers, and a doctor with canned findings.

Everything the screen shows is a function of these fixtures, so Pilot tests and SVG
snapshots are deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from cockpit.doctor.finding import Finding
from cockpit.hardware.sampler import HardwareSampler
from cockpit.hardware.simulated import SimulatedSource
from cockpit.hardware.snapshot import GIB, DiskUsage, GpuSnapshot, HostSnapshot, NvmlStatus
from cockpit.settings import Host, Settings
from cockpit.tui.app import CockpitApp, FleetFactory

FROZEN_T = 1_000.0
TRAINING_S = 300.0
"""How far into the simulated run the screenshots are (the model is loaded, training)."""
PYTHON = "/home/demo/envs/train/bin/python"
NO_NVML = NvmlStatus(
    available=False,
    error="NVML Shared Library Not Found",
    explanation=(
        "No NVIDIA driver is installed or its library is not on the loader path. On WSL2 "
        "install the Windows driver only; never a Linux driver inside WSL."
    ),
)

FINDINGS: list[Finding] = [
    Finding("python", "Python interpreter", "ok", "Python 3.11.9 at " + PYTHON),
    Finding("driver", "NVIDIA driver", "ok", "driver 591.44, supports CUDA 13.1"),
    Finding(
        "torch-cuda",
        "torch sees the GPU",
        "fail",
        "torch 2.5.1+cpu is installed: a CPU-only build.\ntorch.cuda.is_available() is False.",
        'pip install --force-reinstall "torch==2.5.1" --index-url '
        "https://download.pytorch.org/whl/cu121",
        "torch-cpu-build",
    ),
    Finding(
        "compiler",
        "C compiler for Triton",
        "warn",
        "no gcc or cc on PATH",
        "sudo apt install build-essential",
    ),
    Finding("numpy", "numpy ABI", "ok", "numpy 1.26.4"),
    Finding(
        "unsloth",
        "unsloth versions agree",
        "fail",
        "unsloth 2026.10.9 needs trl<=1.15.0; trl 1.16.0 is installed",
        'pip install "trl<=1.15.0" "unsloth[cu124]"',
    ),
    Finding("flash-attn", "flash-attn", "skip", "not installed (optional)"),
    Finding(
        "disk",
        "Free disk for runs",
        "warn",
        "runs disk has 9.1 GiB free",
        "Free some space or move the runs directory.",
    ),
]


class SteppedClock:
    """A clock that stays at ``now`` until a test moves it."""

    def __init__(self, now: float = FROZEN_T) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FixedHost:
    """Host sampler fake: fixed RAM and disks, CPU a smooth function of the clock."""

    def __init__(self, clock: SteppedClock) -> None:
        self.clock = clock

    def sample(self) -> HostSnapshot:
        cpu = 30 + 20 * math.sin(self.clock() / 6)
        return HostSnapshot(
            cpu_pct=round(cpu, 1),
            per_cpu_pct=(cpu + 40, cpu - 20, cpu + 10, cpu - 25, 96.0, cpu, 3.0, cpu + 20),
            cpu_count=8,
            ram_total_bytes=32 * GIB,
            ram_used_bytes=int(11.5 * GIB),
            ram_available_bytes=int(20.5 * GIB),
            swap_total_bytes=2 * GIB,
            swap_used_bytes=int(0.25 * GIB),
            load_avg=(2.31, 1.87, 1.2),
            disks=(
                DiskUsage("runs", "/home/demo/.local/share/cockpit/runs", 500 * GIB, 120 * GIB),
                DiskUsage("HF cache", "/home/demo/.cache/huggingface/hub", 500 * GIB, 120 * GIB),
            ),
        )

    def describe_processes(self, pids: Iterable[int]) -> dict[int, tuple[str | None, str | None]]:
        return {}


class FixedGpuSource:
    """GPU source fake returning the same status and GPUs every time."""

    def __init__(self, status: NvmlStatus, gpus: tuple[GpuSnapshot, ...] = ()) -> None:
        self._status = status
        self.gpus = gpus

    def status(self) -> NvmlStatus:
        return self._status

    def sample(self) -> tuple[NvmlStatus, tuple[GpuSnapshot, ...]]:
        return self._status, self.gpus

    def close(self) -> None:
        pass


class FakeDoctor:
    """Doctor runner fake: returns ``findings`` (or raises ``error``) and counts its calls."""

    def __init__(self, findings: list[Finding] | None = None, error: Exception | None = None):
        self.findings = FINDINGS if findings is None else findings
        self.error = error
        self.calls: list[str | None] = []

    def __call__(self, python: str | None) -> list[Finding]:
        self.calls.append(python)
        if self.error is not None:
            raise self.error
        return list(self.findings)


class ClosingSampler(HardwareSampler):
    """The real sampler, remembering whether the app closed it."""

    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


def make_app(
    *,
    gpu: str | FixedGpuSource | None = "rtx3050-4gb",
    doctor: FakeDoctor | None = None,
    start_place: str = "hardware",
    seed_history_s: int = 0,
    log_target: str | None = None,
    hosts: tuple[Host, ...] = (),
    fleet_factory: FleetFactory | None = None,
) -> CockpitApp:
    """A CockpitApp on fixtures.

    ``gpu``: a simulation name, a fixed source, or None for a machine without NVIDIA
    driver. ``seed_history_s`` fills that many seconds of history before the app starts,
    so the history lines have something to show. The timer never fires in a test (an hour).
    ``hosts`` are the settings' [[hosts]]; ``fleet_factory`` makes their fleet (default: ssh).
    """
    clock = SteppedClock()
    source: FixedGpuSource | SimulatedSource
    if gpu is None:
        source = FixedGpuSource(NO_NVML)
    elif isinstance(gpu, str):
        source = SimulatedSource(gpu, clock, start_s=TRAINING_S)
    else:
        source = gpu
    sampler = ClosingSampler(source, FixedHost(clock), wall_clock=clock)
    app = CockpitApp(
        sampler_factory=lambda: sampler,
        doctor_runner=doctor or FakeDoctor(),
        refresh_s=3600,
        python=PYTHON,
        start_place=start_place,
        log_target=log_target,
        settings=Settings(hosts=hosts),
        fleet_factory=fleet_factory,
    )
    for step in range(seed_history_s, 0, -1):
        clock.now = FROZEN_T - step
        app.history.add(sampler.sample())
    clock.now = FROZEN_T
    app.fixture_sampler = sampler  # type: ignore[attr-defined]
    app.fixture_clock = clock  # type: ignore[attr-defined]
    return app
