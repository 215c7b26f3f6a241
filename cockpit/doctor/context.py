"""Everything a doctor check may look at, bundled so checks stay pure functions.

A check gets a ``DoctorContext`` and returns findings; it does no I/O. Tests build
contexts from fabricated facts, probe results and GPUs.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cockpit.doctor.facts import Facts
from cockpit.doctor.probes import ProbeResult
from cockpit.hardware.snapshot import GpuSnapshot, NvmlStatus


@dataclass(frozen=True)
class ModelSize:
    """A model the user plans to train (from a profile), for the resources check."""

    name: str
    params: float
    """Parameter count, e.g. 3.2e9."""

    @property
    def bf16_bytes(self) -> int:
        """Size of its 16-bit weights: what loading or merging it in RAM needs."""
        return int(self.params * 2)


DEFAULT_MODEL = ModelSize("a 3B model (default; no profile given)", 3.2e9)


@dataclass(frozen=True)
class DoctorContext:
    """The inputs of every check."""

    facts: Facts
    probes: Mapping[str, ProbeResult] = field(default_factory=lambda: MappingProxyType({}))
    nvml: NvmlStatus = field(default_factory=lambda: NvmlStatus(False, "NVML not queried"))
    gpus: tuple[GpuSnapshot, ...] = ()
    models: tuple[ModelSize, ...] = ()

    def probe(self, name: str) -> ProbeResult | None:
        """The result of a probe, or None when it did not run (package not installed)."""
        return self.probes.get(name)

    @property
    def python(self) -> str:
        """The target interpreter, quoted for a copy-pasted shell command."""
        path = self.facts.executable or "python"
        if self.facts.windows:
            return f'"{path}"' if " " in path else path
        return shlex.quote(path)

    def pip_install(self, *specs: str, extra: str = "") -> str:
        """`<python> -m pip install "spec" …`: pip of the *target* env, never a bare pip."""
        quoted = " ".join(f'"{spec}"' for spec in specs)
        tail = f" {extra}" if extra else ""
        return f"{self.python} -m pip install {quoted}{tail}"
