"""Frozen snapshots of the machine, handed from the sampler thread to the UI and the CLI.

A value NVML could not provide is ``None`` (shown as ``n/a``), never a fake zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from cockpit.hardware.cuda import AMPERE

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class GpuProcess:
    """One process holding memory on a GPU."""

    pid: int
    command: str | None
    """Command line (or process name) from the host; None when the pid is not visible."""
    user: str | None
    used_memory_bytes: int | None
    """None when the driver does not report it (WSL2/WDDM, some MIG setups)."""
    kind: str = "compute"
    """"compute" or "graphics"."""
    cockpit_run: str | None = None
    """Run id when the process is a cockpit training run."""


@dataclass(frozen=True)
class GpuSnapshot:
    """One GPU at one instant."""

    index: int
    name: str
    uuid: str | None = None
    driver_version: str | None = None
    cuda_driver_version: str | None = None
    """Highest CUDA version the driver supports, e.g. "13.1"."""
    compute_capability: tuple[int, int] | None = None
    memory_total_bytes: int | None = None
    memory_used_bytes: int | None = None
    utilization_pct: float | None = None
    memory_utilization_pct: float | None = None
    temperature_c: float | None = None
    power_draw_w: float | None = None
    power_limit_w: float | None = None
    fan_pct: float | None = None
    clock_sm_mhz: int | None = None
    clock_mem_mhz: int | None = None
    processes: tuple[GpuProcess, ...] | None = None
    """None when the per-process table is not available at all."""
    simulated: bool = False
    unified_memory: bool = False
    """Apple Silicon: the GPU has no memory of its own; its memory is the host's RAM."""
    bf16: bool | None = None
    """Whether training can use bfloat16 here; None: judged from the compute capability."""

    @property
    def memory_fraction(self) -> float | None:
        """Used / total VRAM in [0, 1], or None when either is unknown."""
        if not self.memory_total_bytes or self.memory_used_bytes is None:
            return None
        return self.memory_used_bytes / self.memory_total_bytes

    @property
    def plan_bytes(self) -> int | None:
        """The memory a run may plan to use: all of a GPU's own, the GPU's share of unified."""
        total = self.memory_total_bytes
        if not total:
            return None
        return unified_gpu_share(total) if self.unified_memory else total


@dataclass(frozen=True)
class NvmlStatus:
    """What NVML said when we asked for GPUs."""

    available: bool
    error: str | None = None
    """NVML's own message, e.g. "NVML Shared Library Not Found"."""
    explanation: str | None = None
    """What the error means for the user and what to do, in plain words."""
    simulated: str | None = None
    """Name of the simulated machine when the source is simulated."""


@dataclass(frozen=True)
class DiskUsage:
    """Free space where something big lives (runs, the Hugging Face cache)."""

    label: str
    path: str
    total_bytes: int | None
    free_bytes: int | None


@dataclass(frozen=True)
class HostSnapshot:
    """CPU, memory and disks of the host."""

    cpu_pct: float
    per_cpu_pct: tuple[float, ...]
    cpu_count: int
    ram_total_bytes: int
    ram_used_bytes: int
    ram_available_bytes: int
    swap_total_bytes: int
    swap_used_bytes: int
    load_avg: tuple[float, float, float] | None
    disks: tuple[DiskUsage, ...] = ()


@dataclass(frozen=True)
class MachineSnapshot:
    """Everything the Hardware place and `cockpit watch` show, sampled at ``t``."""

    t: float
    nvml: NvmlStatus
    gpus: tuple[GpuSnapshot, ...]
    host: HostSnapshot
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        return self.nvml.simulated is not None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return asdict(self)


# -- GPU sizes: what pre-flight, estimates and verdicts plan against --------------------

UNIFIED_LARGE_BYTES = 36 * GIB
"""Above this much RAM macOS lets the GPU use 3/4 of it, at or below it 2/3."""


def unified_gpu_share(ram_bytes: int) -> int:
    """The part of a Mac's unified memory its GPU may use: what estimates plan against.

    Metal caps the GPU's working set at `MTLDevice.recommendedMaxWorkingSetSize`, which
    PyTorch reads as `torch.mps.recommended_max_memory()` and `set_per_process_memory_fraction`
    scales (docs.pytorch.org, torch.mps). Apple does not document the ratio; measured it is
    about 2/3 of RAM up to 36 GB and 3/4 above (e.g. 17.8 GiB of 24 GB: sglang PR #29949;
    75% on larger Macs: gpustack issue #1375). The lower figure is kept where they differ, so
    an estimate errs towards "won't fit" rather than a swapping Mac.
    """
    share = 3 / 4 if ram_bytes > UNIFIED_LARGE_BYTES else 2 / 3
    return int(ram_bytes * share)


def gpu_sizes_gib(gpus: Iterable[GpuSnapshot]) -> tuple[float, ...]:
    """Plannable memory of each GPU that reports it, in GiB (one without a size is left out)."""
    return tuple((g.plan_bytes or 0) / GIB for g in gpus if g.plan_bytes)


@dataclass(frozen=True)
class GpuTraits:
    """What a GPU is, not what it is doing: what pre-flight judges a profile against.

    Equal from one sample to the next (unlike a snapshot's live values), so a screen can
    re-check only when the GPUs really change.
    """

    name: str
    memory_gib: float | None
    compute_capability: tuple[int, int] | None = None
    cuda_driver_version: str | None = None
    """Highest CUDA version the driver supports, e.g. "12.2"."""
    bf16: bool | None = None
    """Set where the compute capability does not say it (Apple's GPU: macOS 14 or newer)."""
    unified_memory: bool = False
    """Apple Silicon's GPU (PyTorch's `mps`): no CUDA, memory shared with the host."""

    @property
    def has_bf16(self) -> bool | None:
        """Whether training can use bfloat16; None when nothing says."""
        if self.bf16 is not None:
            return self.bf16
        cc = self.compute_capability
        return None if cc is None else tuple(cc) >= AMPERE


def gpu_traits(gpus: Iterable[GpuSnapshot]) -> tuple[GpuTraits, ...]:
    """The fixed traits of each GPU of a snapshot (memory: what a run may plan to use)."""
    return tuple(
        GpuTraits(
            g.name,
            g.plan_bytes / GIB if g.plan_bytes else None,
            g.compute_capability,
            g.cuda_driver_version,
            g.bf16,
            g.unified_memory,
        )
        for g in gpus
    )


def largest_gpu(snapshot: MachineSnapshot | None) -> GpuSnapshot | None:
    """The GPU with the most memory (the one estimates are judged on); None without one."""
    gpus = [] if snapshot is None else [g for g in snapshot.gpus if g.plan_bytes]
    return max(gpus, key=lambda g: g.plan_bytes or 0, default=None)


def largest_gpu_gib(snapshot: MachineSnapshot | None) -> float | None:
    """The largest GPU's plannable memory in GiB, to 2 decimals; None without a GPU."""
    gpu = largest_gpu(snapshot)
    return None if gpu is None else round((gpu.plan_bytes or 0) / GIB, 2)
