"""Simulated GPUs: a first-class, visibly labelled stand-in for NVML.

Used for demos, screenshots, UI tests and for exploring cockpit on a machine without an
NVIDIA GPU (`cockpit --simulate rtx3050-4gb`). Values follow a training-like load — the
model loads, VRAM ramps then holds, utilisation stays high with a dip at each checkpoint,
temperature lags behind — as a pure function of elapsed time and a seed, so a frozen
clock gives the same snapshot every time.
"""

from __future__ import annotations

import math
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from cockpit.hardware.snapshot import GIB, GpuProcess, GpuSnapshot, NvmlStatus

DRIVER_VERSION = "591.44"
CUDA_VERSION = "13.1"
RUN_ID = "demo-run"
RUN_COMMAND = f"python -m engines run /home/demo/.local/share/cockpit/runs/{RUN_ID}"

_LOAD_S = 20.0
"""Seconds the demo run spends loading the model before training starts."""
_CHECKPOINT_EVERY_S = 120.0
_CHECKPOINT_LEN_S = 8.0
_HEAT_TAU_S = 90.0


@dataclass(frozen=True)
class SimulatedProcess:
    """A process that holds VRAM from the start (a desktop, a forgotten notebook)."""

    pid: int
    command: str
    memory_gib: float
    kind: str = "graphics"
    user: str = "demo"


@dataclass(frozen=True)
class SimulatedGpu:
    """The fixed character of one simulated card."""

    name: str
    memory_gib: float
    compute_capability: tuple[int, int]
    power_limit_w: float
    idle_power_w: float
    sm_boost_mhz: int
    sm_idle_mhz: int
    mem_clock_mhz: int
    idle_temp_c: float
    load_temp_c: float
    run_fraction: float
    """Share of VRAM the demo run holds once the model is loaded."""
    has_fan: bool = True
    others: tuple[SimulatedProcess, ...] = ()


@dataclass(frozen=True)
class SimulatedMachine:
    """A named simulation: its cards and how its driver behaves."""

    description: str
    gpus: tuple[SimulatedGpu, ...]
    process_memory: bool = True
    """False where the driver hides per-process memory, as on WSL2 (WDDM)."""
    driver_version: str = DRIVER_VERSION
    cuda_version: str = CUDA_VERSION
    """Highest CUDA version the driver supports."""


_LAPTOP_3050 = SimulatedGpu(
    name="NVIDIA GeForce RTX 3050 Laptop GPU",
    memory_gib=4,
    compute_capability=(8, 6),
    power_limit_w=60,
    idle_power_w=6,
    sm_boost_mhz=1740,
    sm_idle_mhz=210,
    mem_clock_mhz=6001,
    idle_temp_c=45,
    load_temp_c=74,
    run_fraction=0.82,
    has_fan=False,
    others=(SimulatedProcess(1873, "/usr/lib/xorg/Xorg vt2", 0.2),),
)
_RTX_5070TI = SimulatedGpu(
    name="NVIDIA GeForce RTX 5070 Ti",
    memory_gib=16,
    compute_capability=(12, 0),
    power_limit_w=300,
    idle_power_w=18,
    sm_boost_mhz=2452,
    sm_idle_mhz=180,
    mem_clock_mhz=14001,
    idle_temp_c=36,
    load_temp_c=66,
    run_fraction=0.7,
    others=(SimulatedProcess(2210, "/usr/bin/gnome-shell", 0.45),),
)
_RTX_4090 = SimulatedGpu(
    name="NVIDIA GeForce RTX 4090",
    memory_gib=24,
    compute_capability=(8, 9),
    power_limit_w=450,
    idle_power_w=22,
    sm_boost_mhz=2520,
    sm_idle_mhz=210,
    mem_clock_mhz=10501,
    idle_temp_c=34,
    load_temp_c=68,
    run_fraction=0.66,
    others=(
        SimulatedProcess(2210, "/usr/bin/gnome-shell", 0.5),
        SimulatedProcess(3907, "python -m ipykernel_launcher -f kernel-3907.json", 5.5, "compute"),
    ),
)
_A100_40GB = SimulatedGpu(
    name="NVIDIA A100-SXM4-40GB",
    memory_gib=40,
    compute_capability=(8, 0),
    power_limit_w=400,
    idle_power_w=55,
    sm_boost_mhz=1410,
    sm_idle_mhz=210,
    mem_clock_mhz=1215,
    idle_temp_c=31,
    load_temp_c=58,
    run_fraction=0.78,
    has_fan=False,  # passively cooled by the server chassis
)
_T4 = SimulatedGpu(
    name="Tesla T4",
    memory_gib=15,  # a "16 GB" T4 reports 15360 MiB
    compute_capability=(7, 5),  # Turing: no bf16, no FlashAttention 2
    power_limit_w=70,
    idle_power_w=9,
    sm_boost_mhz=1590,
    sm_idle_mhz=300,
    mem_clock_mhz=5000,
    idle_temp_c=38,
    load_temp_c=71,
    run_fraction=0.72,
    has_fan=False,  # passively cooled in a cloud server
)

SIMULATED_MACHINES: dict[str, SimulatedMachine] = {
    "rtx3050-4gb": SimulatedMachine("4 GiB laptop GPU, no fan reading", (_LAPTOP_3050,)),
    "rtx5070ti-16gb": SimulatedMachine("16 GiB desktop Blackwell card", (_RTX_5070TI,)),
    "wsl-rtx5070ti-16gb": SimulatedMachine(
        "the 5070 Ti seen from WSL2: per-process memory n/a", (_RTX_5070TI,), False
    ),
    "rtx4090-24gb": SimulatedMachine(
        "24 GiB card; a forgotten notebook kernel holds VRAM", (_RTX_4090,)
    ),
    "2x-a100-40gb": SimulatedMachine(
        "two A100 SXM4, one training rank each", (_A100_40GB, _A100_40GB)
    ),
    "t4-16gb": SimulatedMachine(
        "a Colab/Kaggle Tesla T4: pre-Ampere (sm_75), no bf16 or FlashAttention 2",
        (_T4,),
        driver_version="550.54.15",
        cuda_version="12.4",
    ),
}


class UnknownSimulation(ValueError):
    """A simulation name that does not exist; the message lists the valid ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.valid = tuple(sorted(SIMULATED_MACHINES))
        super().__init__(
            f"unknown simulated machine {name!r}; choose one of: {', '.join(self.valid)}"
        )


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


class _Wave:
    """Smooth deterministic noise in [-1, 1]: three sines with seeded phases."""

    _PERIODS_S = (7.3, 17.9, 41.0)
    _WEIGHTS = (1.0, 0.6, 0.4)

    def __init__(self, rng: random.Random) -> None:
        self._phases = [rng.uniform(0, 2 * math.pi) for _ in self._PERIODS_S]

    def __call__(self, t: float) -> float:
        total = sum(
            w * math.sin(2 * math.pi * t / p + ph)
            for w, p, ph in zip(self._WEIGHTS, self._PERIODS_S, self._phases, strict=True)
        )
        return total / sum(self._WEIGHTS)


def _checkpoint_dip(train_t: float) -> float:
    """1.0 in the middle of a checkpoint save, 0.0 between them."""
    into = train_t % _CHECKPOINT_EVERY_S - (_CHECKPOINT_EVERY_S - _CHECKPOINT_LEN_S)
    if train_t < 0 or into < 0:
        return 0.0
    return math.sin(math.pi * into / _CHECKPOINT_LEN_S) ** 2


class _GpuModel:
    """One simulated card's values at elapsed time ``t``."""

    def __init__(
        self, index: int, spec: SimulatedGpu, seed: int, machine: str, host: SimulatedMachine
    ) -> None:
        self.index = index
        self.spec = spec
        self.driver = (host.driver_version, host.cuda_version)
        rng = random.Random(f"{machine}:{index}:{seed}")
        self._util_wave, self._mem_wave, self._heat_wave = (_Wave(rng) for _ in range(3))
        self._others_bytes = int(sum(p.memory_gib for p in spec.others) * GIB)
        self._run_bytes = int(spec.memory_gib * GIB * spec.run_fraction)
        self.uuid = (
            f"GPU-{zlib.crc32(f'{machine}:{index}'.encode()):08x}-5eed-4000-8000-000000000000"
        )

    def utilization(self, t: float) -> float:
        loading = 6 + 4 * self._util_wave(t)
        busy = 96 + 3 * self._util_wave(t) - 70 * _checkpoint_dip(t - _LOAD_S)
        training = _smoothstep((t - _LOAD_S + 2) / 4)
        return _clamp(loading + (busy - loading) * training, 0, 100)

    def run_bytes(self, t: float) -> int:
        """VRAM of the run: a CUDA context at once, then the model as it loads."""
        ramp = _smoothstep(t / _LOAD_S)
        jitter = 0.004 * self._mem_wave(t) * ramp
        return int(self._run_bytes * (0.08 + 0.91 * ramp + jitter))

    def temperature(self, t: float, util: float) -> float:
        heat = 1 - math.exp(-max(0.0, t - _LOAD_S) / _HEAT_TAU_S)
        spec = self.spec
        target = spec.idle_temp_c + (spec.load_temp_c - spec.idle_temp_c) * heat
        return round(target + 0.8 * self._heat_wave(t) + 0.02 * (util - 90), 1)

    def power(self, t: float, util: float) -> float:
        spec = self.spec
        span = spec.power_limit_w - spec.idle_power_w
        watts = (spec.idle_power_w + span * 0.9 * (util / 100) ** 1.3) * (
            1 + 0.02 * self._util_wave(t + 3)
        )
        return round(_clamp(watts, 0, spec.power_limit_w), 1)

    def sm_clock(self, t: float, util: float) -> int:
        spec = self.spec
        mhz = spec.sm_idle_mhz + (spec.sm_boost_mhz - spec.sm_idle_mhz) * min(1.0, util / 40)
        return int(_clamp(mhz + 12 * self._heat_wave(t + 5), 0, spec.sm_boost_mhz))

    def fan(self, temp: float) -> float | None:
        if not self.spec.has_fan:
            return None
        return float(round(_clamp(30 + 1.5 * (temp - self.spec.idle_temp_c), 0, 100)))

    def snapshot(self, t: float, processes: tuple[GpuProcess, ...]) -> GpuSnapshot:
        spec = self.spec
        util = self.utilization(t)
        temp = self.temperature(t, util)
        total = int(spec.memory_gib * GIB)
        return GpuSnapshot(
            index=self.index,
            name=spec.name,
            uuid=self.uuid,
            driver_version=self.driver[0],
            cuda_driver_version=self.driver[1],
            compute_capability=spec.compute_capability,
            memory_total_bytes=total,
            memory_used_bytes=min(total, self._others_bytes + self.run_bytes(t)),
            utilization_pct=round(util, 1),
            memory_utilization_pct=round(_clamp(util * 0.45 + 3 * self._mem_wave(t), 0, 100), 1),
            temperature_c=temp,
            power_draw_w=self.power(t, util),
            power_limit_w=float(spec.power_limit_w),
            fan_pct=self.fan(temp),
            clock_sm_mhz=self.sm_clock(t, util),
            clock_mem_mhz=spec.mem_clock_mhz,  # a CUDA context keeps the memory clock up
            processes=processes,
            simulated=True,
        )


class SimulatedSource:
    """Same interface as ``NvmlSource``; every snapshot is marked simulated."""

    def __init__(
        self,
        name: str,
        clock: Callable[[], float] = time.monotonic,
        *,
        seed: int = 0,
        start_s: float = 0.0,
    ) -> None:
        """``start_s``: how far into the demo run the first sample is (0 = model loading)."""
        machine = SIMULATED_MACHINES.get(name)
        if machine is None:
            raise UnknownSimulation(name)
        self.name = name
        self.machine = machine
        self._clock = clock
        self._t0 = clock() - start_s
        self._models = [_GpuModel(i, g, seed, name, machine) for i, g in enumerate(machine.gpus)]

    def elapsed(self) -> float:
        """Seconds into the simulated run."""
        return max(0.0, self._clock() - self._t0)

    def status(self) -> NvmlStatus:
        """Always available, and labelled with the simulation's name."""
        return NvmlStatus(available=True, simulated=self.name)

    def sample(self) -> tuple[NvmlStatus, tuple[GpuSnapshot, ...]]:
        """The status and one simulated snapshot per card at the clock's current time."""
        t = self.elapsed()
        gpus = tuple(model.snapshot(t, self._processes(model, t)) for model in self._models)
        return self.status(), gpus

    def close(self) -> None:
        """Nothing to release."""

    def _processes(self, model: _GpuModel, t: float) -> tuple[GpuProcess, ...]:
        visible = self.machine.process_memory
        others = tuple(
            GpuProcess(
                pid=p.pid,
                command=p.command,
                user=p.user,
                used_memory_bytes=int(p.memory_gib * GIB) if visible else None,
                kind=p.kind,
            )
            for p in model.spec.others
        )
        run = GpuProcess(
            pid=4242 + model.index,
            command=RUN_COMMAND,
            user="demo",
            used_memory_bytes=model.run_bytes(t) if visible else None,
            cockpit_run=RUN_ID,
        )
        return (run, *others)


def open_simulated(
    name: str, clock: Callable[[], float] = time.monotonic, *, start_s: float = 0.0
) -> SimulatedSource:
    """The simulated source called ``name``; raises ``UnknownSimulation`` listing the names."""
    return SimulatedSource(name, clock, start_s=start_s)
