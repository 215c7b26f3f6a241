"""Pure formatting of hardware values, shared by the UI and `cockpit watch`.

Every helper turns an unknown value (None) into "n/a", so no caller can show a fake 0.
"""

from __future__ import annotations

import re

from cockpit.hardware.snapshot import GIB, GpuSnapshot, HostSnapshot, MachineSnapshot

NA = "n/a"
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def fmt_bytes(n: int | float | None) -> str:
    """Binary units, one decimal below 10: "3.2 GiB", "80 GiB", "512 MiB"."""
    if n is None:
        return NA
    value = float(n)
    unit = _UNITS[0]
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{int(value)} B"
    return f"{value:.1f} {unit}" if abs(value) < 10 else f"{value:.0f} {unit}"


def fmt_pct(value: float | None) -> str:
    """A percentage rounded to a whole number: "52%"."""
    return NA if value is None else f"{value:.0f}%"


def fmt_temp(celsius: float | None) -> str:
    """A temperature: "71°C"."""
    return NA if celsius is None else f"{celsius:.0f}°C"


def fmt_watts(watts: float | None) -> str:
    """A power: "48 W"."""
    return NA if watts is None else f"{watts:.0f} W"


def fmt_mhz(mhz: float | None) -> str:
    """A clock: "1740 MHz"."""
    return NA if mhz is None else f"{mhz:.0f} MHz"


def fmt_cc(cc: tuple[int, int] | None) -> str:
    """A CUDA compute capability: (8, 6) -> "8.6"."""
    return NA if cc is None else f"{cc[0]}.{cc[1]}"


def fmt_gib_pair(used: int | None, total: int | None) -> str:
    """Used over total in GiB with one decimal: "2.1/4.0 GiB"."""
    return f"{_gib(used)}/{_gib(total)} GiB"


def first_sentence(text: str) -> str:
    """The first sentence of an explanation, for one-line displays."""
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def _gib(n: int | None) -> str:
    return NA if n is None else f"{n / GIB:.1f}"


def _number(value: float | None) -> str:
    return NA if value is None else f"{value:.0f}"


def gpu_line(gpu: GpuSnapshot) -> str:
    """One GPU on one line, as `cockpit watch` prints it."""
    label = " [SIMULATED]" if gpu.simulated else ""
    memory = fmt_gib_pair(gpu.memory_used_bytes, gpu.memory_total_bytes)
    fraction = gpu.memory_fraction
    memory_pct = fmt_pct(None if fraction is None else fraction * 100)
    power = f"{_number(gpu.power_draw_w)}/{_number(gpu.power_limit_w)} W"
    clocks = f"sm {fmt_mhz(gpu.clock_sm_mhz)} mem {fmt_mhz(gpu.clock_mem_mhz)}"
    driver = f"drv {gpu.driver_version or NA} CUDA {gpu.cuda_driver_version or NA}"
    return " | ".join(
        (
            f"GPU{gpu.index} {gpu.name}{label}",
            f"{memory} {memory_pct}",
            f"util {fmt_pct(gpu.utilization_pct)}",
            fmt_temp(gpu.temperature_c),
            power,
            f"fan {fmt_pct(gpu.fan_pct)}",
            clocks,
            f"cc {fmt_cc(gpu.compute_capability)}",
            driver,
        )
    )


def host_line(host: HostSnapshot) -> str:
    """The host on one line: CPU, RAM, swap, load and free disk space."""
    load = NA if host.load_avg is None else " ".join(f"{x:.2f}" for x in host.load_avg)
    cores = "core" if host.cpu_count == 1 else "cores"
    parts = [
        "host",
        f"cpu {fmt_pct(host.cpu_pct)} ({host.cpu_count} {cores})",
        f"ram {fmt_gib_pair(host.ram_used_bytes, host.ram_total_bytes)}",
        f"swap {fmt_gib_pair(host.swap_used_bytes, host.swap_total_bytes)}",
        f"load {load}",
    ]
    parts += [f"{disk.label} {fmt_bytes(disk.free_bytes)} free" for disk in host.disks]
    return " | ".join(parts)


NO_GPU_NEXT_STEPS = "`cockpit doctor` checks the stack; `cockpit --simulate rtx3050-4gb` demos one"


def snapshot_lines(snap: MachineSnapshot) -> list[str]:
    """The headless `cockpit watch` output: one line per GPU, then one for the host."""
    if snap.nvml.available and snap.gpus:
        lines = [gpu_line(gpu) for gpu in snap.gpus]
    else:
        reason = snap.nvml.error or "no GPU reported"
        if snap.nvml.explanation:
            reason += f" — {first_sentence(snap.nvml.explanation)}"
        lines = [f"GPU  none: {reason} ({NO_GPU_NEXT_STEPS})"]
    return [*lines, host_line(snap.host)]
