"""The line `cockpit watch --stream` prints each interval, written and read in one place.

One JSON object per line: the protocol version, the host's name, cockpit's version, the
machine snapshot (`MachineSnapshot.to_json()`) and the host's active runs (as `cockpit runs
--json` lists them). The fleet reads it from another machine, maybe another cockpit
version: the reader takes what it knows, ignores the rest, and never trusts a value's type.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PROTOCOL = 1
"""Bumped when a reader of an older version would misread a line."""
MAX_LINE = 4 * 1024 * 1024
"""A longer line is not cockpit's (a runaway process printing to the stream)."""


def stream_line(
    host: str, version: str, snapshot: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]
) -> str:
    """One line of the stream (with its newline)."""
    line = {"protocol": PROTOCOL, "host": host, "cockpit": version}
    return json.dumps({**line, "snapshot": snapshot, "runs": list(runs)}) + "\n"


@dataclass(frozen=True)
class RemoteGpu:
    """One GPU of a host, as its row shows it; None: not reported."""

    index: int
    name: str
    memory_used_bytes: float | None = None
    memory_total_bytes: float | None = None
    utilization_pct: float | None = None
    temperature_c: float | None = None
    power_draw_w: float | None = None


@dataclass(frozen=True)
class RemoteRun:
    """One active run on a host."""

    id: str
    status: str
    profile: str = ""
    step: int | None = None
    total_steps: int | None = None
    last_loss: float | None = None


@dataclass(frozen=True)
class HostReport:
    """What one line said about its host."""

    hostname: str
    version: str
    gpus: tuple[RemoteGpu, ...] = ()
    runs: tuple[RemoteRun, ...] = ()
    gpu_error: str | None = None
    """Why no GPU is shown (NVML's message), None when GPUs were read."""
    simulated: str | None = None
    """The simulated machine's name when the host shows one."""
    cpu_pct: float | None = None
    ram_used_bytes: float | None = None
    ram_total_bytes: float | None = None


def parse_line(text: str) -> HostReport | None:
    """The report of one stream line; None when it is not one (noise from a login script)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("snapshot"), dict):
        return None
    if not isinstance(data.get("protocol"), int):
        return None
    snap = data["snapshot"]
    nvml = _dict(snap.get("nvml"))
    host = _dict(snap.get("host"))
    gpus = tuple(_gpu(g) for g in _list(snap.get("gpus")) if isinstance(g, dict))
    error = None if nvml.get("available") and gpus else _str(nvml.get("error")) or "no GPU"
    return HostReport(
        hostname=_str(data.get("host")),
        version=_str(data.get("cockpit")),
        gpus=gpus,
        runs=tuple(_run(r) for r in _list(data.get("runs")) if isinstance(r, dict)),
        gpu_error=error,
        simulated=_str(nvml.get("simulated")) or None,
        cpu_pct=_number(host.get("cpu_pct")),
        ram_used_bytes=_number(host.get("ram_used_bytes")),
        ram_total_bytes=_number(host.get("ram_total_bytes")),
    )


def _gpu(gpu: dict[str, Any]) -> RemoteGpu:
    index = _number(gpu.get("index"))
    return RemoteGpu(
        index=int(index) if index is not None else 0,
        name=_str(gpu.get("name")) or "GPU",
        memory_used_bytes=_number(gpu.get("memory_used_bytes")),
        memory_total_bytes=_number(gpu.get("memory_total_bytes")),
        utilization_pct=_number(gpu.get("utilization_pct")),
        temperature_c=_number(gpu.get("temperature_c")),
        power_draw_w=_number(gpu.get("power_draw_w")),
    )


def _run(run: dict[str, Any]) -> RemoteRun:
    step, total = _number(run.get("step")), _number(run.get("total_steps"))
    return RemoteRun(
        id=_str(run.get("id")) or "?",
        status=_str(run.get("status")) or "?",
        profile=_str(run.get("profile")),
        step=int(step) if step is not None else None,
        total_steps=int(total) if total is not None else None,
        last_loss=_number(run.get("last_loss")),
    )


def _number(value: Any) -> float | None:
    """A finite number (bool is not one), else None; huge ints are refused, not overflowed."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and abs(value) > 2**63:
        return None
    return float(value) if math.isfinite(value) else None


def _str(value: Any) -> str:
    return value[:200] if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
