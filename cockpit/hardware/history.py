"""The last minute of utilisation, VRAM and CPU, for the Hardware place's sparklines.

Each series is a fixed-size ring of samples aligned in time; a value the driver could
not give (None) takes its slot in the ring but is left out of what the series returns,
because sparklines want floats, not holes.
"""

from __future__ import annotations

from collections import deque

from cockpit.hardware.snapshot import MachineSnapshot

DEFAULT_SIZE = 60


class _Series:
    """A ring buffer of optional floats."""

    def __init__(self, size: int) -> None:
        self._values: deque[float | None] = deque(maxlen=size)

    def add(self, value: float | None) -> None:
        self._values.append(value)

    def values(self) -> list[float]:
        return [v for v in self._values if v is not None]


class History:
    """Per-GPU utilisation and memory, and host CPU, over the last ``size`` samples."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError(f"history size must be at least 1, got {size}")
        self.size = size
        self._util: dict[int, _Series] = {}
        self._memory: dict[int, _Series] = {}
        self._cpu = _Series(size)

    def add(self, snapshot: MachineSnapshot) -> None:
        """Record one snapshot; a GPU absent from it gets a gap in its series."""
        seen: set[int] = set()
        for gpu in snapshot.gpus:
            seen.add(gpu.index)
            self._series(self._util, gpu.index).add(gpu.utilization_pct)
            self._series(self._memory, gpu.index).add(gpu.memory_fraction)
        for index in self._util.keys() - seen:
            self._util[index].add(None)
            self._memory[index].add(None)
        self._cpu.add(snapshot.host.cpu_pct)

    def utilization(self, index: int) -> list[float]:
        """GPU ``index``'s utilisation in percent (0-100), oldest first."""
        series = self._util.get(index)
        return series.values() if series else []

    def memory(self, index: int) -> list[float]:
        """GPU ``index``'s VRAM used as a fraction of total (0-1), oldest first."""
        series = self._memory.get(index)
        return series.values() if series else []

    def cpu(self) -> list[float]:
        """Host CPU utilisation in percent (0-100), oldest first."""
        return self._cpu.values()

    def _series(self, table: dict[int, _Series], index: int) -> _Series:
        if index not in table:
            table[index] = _Series(self.size)
        return table[index]
