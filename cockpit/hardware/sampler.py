"""One call, one ``MachineSnapshot``: GPUs (NVML or simulated) merged with the host.

This is what the Hardware place's worker thread and `cockpit watch` call every second.
It never raises because of the GPU side: whatever goes wrong there becomes an
``NvmlStatus`` the user can read, while the host values stay live.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from cockpit.hardware.host import HostSampler, cockpit_run_id
from cockpit.hardware.snapshot import (
    GpuProcess,
    GpuSnapshot,
    GpuTraits,
    HostSnapshot,
    MachineSnapshot,
    NvmlStatus,
    gpu_sizes_gib,
    gpu_traits,
)

_UNEXPECTED = (
    "cockpit hit an unexpected error while reading the GPUs, so GPU values are unavailable;"
    " the host values are still live. Run `nvidia-smi` to see whether the driver answers,"
    " open the Doctor place (or run `cockpit doctor`), and please report this error."
)


class GpuSource(Protocol):
    """What the sampler needs from ``NvmlSource`` or ``SimulatedSource``."""

    def status(self) -> NvmlStatus: ...

    def sample(self) -> tuple[NvmlStatus, tuple[GpuSnapshot, ...]]: ...

    def close(self) -> None: ...


class HostSource(Protocol):
    """What the sampler needs from ``HostSampler``."""

    def sample(self) -> HostSnapshot: ...

    def describe_processes(
        self, pids: Iterable[int]
    ) -> dict[int, tuple[str | None, str | None]]: ...


class HardwareSampler:
    """Samples GPUs and host together; safe to call from a worker thread."""

    def __init__(
        self,
        gpu_source: GpuSource,
        host_sampler: HostSource,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.gpu_source = gpu_source
        self.host_sampler = host_sampler
        self._wall_clock = wall_clock

    def sample(self) -> MachineSnapshot:
        """GPUs with their processes' users and commands filled in, plus the host."""
        status, gpus = self._sample_gpus()
        return MachineSnapshot(
            t=self._wall_clock(), nvml=status, gpus=gpus, host=self.host_sampler.sample()
        )

    def close(self) -> None:
        """Release the GPU source (NVML shutdown); never raises."""
        with contextlib.suppress(Exception):  # closing must not take the app down
            self.gpu_source.close()

    def _sample_gpus(self) -> tuple[NvmlStatus, tuple[GpuSnapshot, ...]]:
        try:
            status, gpus = self.gpu_source.sample()
            return status, self._with_process_info(gpus)
        except Exception as exc:  # any GPU-side failure becomes a status
            return NvmlStatus(available=False, error=repr(exc), explanation=_UNEXPECTED), ()

    def _with_process_info(self, gpus: tuple[GpuSnapshot, ...]) -> tuple[GpuSnapshot, ...]:
        unknown = {p.pid for gpu in gpus for p in (gpu.processes or ()) if p.command is None}
        info = self.host_sampler.describe_processes(sorted(unknown)) if unknown else {}
        return tuple(_merge(gpu, info) for gpu in gpus)


def _merge(gpu: GpuSnapshot, info: dict[int, tuple[str | None, str | None]]) -> GpuSnapshot:
    if gpu.processes is None:
        return gpu
    return dataclasses.replace(gpu, processes=tuple(_enrich(p, info) for p in gpu.processes))


def _enrich(proc: GpuProcess, info: dict[int, tuple[str | None, str | None]]) -> GpuProcess:
    user, command = proc.user, proc.command
    if command is None:
        user, command = info.get(proc.pid, (None, None))
        user = proc.user if user is None else user
    run = proc.cockpit_run or cockpit_run_id(command)
    return dataclasses.replace(proc, user=user, command=command, cockpit_run=run)


def open_sampler(
    simulate: str | None = None, disk_paths: dict[str, str] | None = None
) -> HardwareSampler:
    """The real machine (NVML, or Apple's GPU on a Mac, + psutil), or the simulated GPUs
    called ``simulate``.

    Raises ``UnknownSimulation`` (listing the valid names) for an unknown ``simulate``.
    """
    if simulate is None:
        gpu_source: GpuSource = _machine_source()
    else:
        from cockpit.hardware.simulated import open_simulated

        gpu_source = open_simulated(simulate)
    return HardwareSampler(gpu_source, HostSampler(disk_paths))


def _machine_source() -> GpuSource:
    """This machine's GPUs: Apple's GPU on Apple Silicon (no NVML there), else NVML."""
    from cockpit.hardware.apple import AppleSource, is_apple_silicon

    if is_apple_silicon():
        return AppleSource()
    from cockpit.hardware.nvml import NvmlSource

    return NvmlSource()


def gpu_memory_gib() -> tuple[float, ...]:
    """Plannable memory of every GPU (NVML's, or Apple's share of unified memory), in GiB;
    empty without a GPU or driver.

    One GPU sample, no host sampling: what pre-flight and estimates plan against.
    """
    return gpu_sizes_gib(_machine_gpus())


def detected_gpu_traits() -> tuple[GpuTraits, ...]:
    """Name, memory, compute capability, driver CUDA (and bf16 on a Mac) of every GPU."""
    return gpu_traits(_machine_gpus())


def _machine_gpus() -> tuple[GpuSnapshot, ...]:
    """One sample of this machine's GPUs; empty without a GPU or driver."""
    source = _machine_source()
    try:
        _, gpus = source.sample()
    except Exception:  # the gateway should not raise; no GPU is a normal answer here
        return ()
    finally:
        source.close()
    return gpus
