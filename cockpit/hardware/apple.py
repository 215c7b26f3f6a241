"""Apple Silicon's GPU as a GPU source: the Metal GPU PyTorch trains on as ``mps``.

A Mac has no NVML and its GPU no memory of its own: it shares the host's RAM (unified
memory). So the one card shown is the chip (its name from ``sysctl``), with the host's RAM
as psutil reports it (through ``cockpit.hardware.host``); what macOS does not expose
without root (utilisation, temperature, power, per-process GPU memory) stays None and
reads "n/a". Untested on a real Mac here: every test mocks the platform at this boundary.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable

from cockpit.hardware.host import memory_bytes
from cockpit.hardware.snapshot import GpuSnapshot, NvmlStatus

FALLBACK_NAME = "Apple Silicon GPU"
BF16_MACOS = (14, 0)
"""PyTorch's mps has bfloat16 from macOS 14 on: transformers and accelerate both ask
`torch.backends.mps.is_macos_or_newer(14, 0)` before offering bf16 there."""
_SYSCTL_TIMEOUT_S = 2.0

MemoryReader = Callable[[], tuple[int, int]]


def is_apple_silicon(system: str | None = None, machine: str | None = None) -> bool:
    """True on macOS on an Apple chip (arm64), where PyTorch can train on ``mps``."""
    system = platform.system() if system is None else system
    machine = platform.machine() if machine is None else machine
    return system == "Darwin" and machine == "arm64"


def chip_name() -> str:
    """ "Apple M2 Pro", from ``sysctl -n machdep.cpu.brand_string``; a generic name if unread."""
    try:
        done = subprocess.run(
            ["sysctl", "-n", "machdep.cpu.brand_string"],
            capture_output=True,
            text=True,
            timeout=_SYSCTL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return FALLBACK_NAME
    name = done.stdout.strip() if done.returncode == 0 else ""
    return name or FALLBACK_NAME


def macos_version() -> str | None:
    """ "14.5", or None when the platform does not say."""
    return platform.mac_ver()[0] or None


def bf16_supported(version: str | None) -> bool | None:
    """Whether PyTorch's mps trains in bfloat16 on this macOS; None when unknown."""
    parts = (version or "").split(".")
    try:
        numbers = (int(parts[0]), int(parts[1]) if len(parts) > 1 else 0)
    except ValueError:
        return None
    return numbers >= BF16_MACOS


class AppleSource:
    """The Apple GPU as the sampler's GPU source (in place of ``NvmlSource``)."""

    def __init__(
        self,
        chip: str | None = None,
        macos: str | None = None,
        memory: MemoryReader = memory_bytes,
    ) -> None:
        self._name = chip_name() if chip is None else chip  # read once: it never changes
        self._macos = macos_version() if macos is None else macos
        self._memory = memory

    def status(self) -> NvmlStatus:
        return NvmlStatus(available=True)

    def sample(self) -> tuple[NvmlStatus, tuple[GpuSnapshot, ...]]:
        """The chip's GPU, with the host's RAM as its memory."""
        total, used = self._memory()
        gpu = GpuSnapshot(
            index=0,
            name=self._name,
            driver_version=None if self._macos is None else f"macOS {self._macos}",
            memory_total_bytes=total,
            memory_used_bytes=used,
            unified_memory=True,
            bf16=bf16_supported(self._macos),
        )
        return self.status(), (gpu,)

    def close(self) -> None:
        """Nothing to release (no library was opened)."""
