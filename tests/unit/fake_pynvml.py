"""A stand-in for the pynvml module (nvidia-ml-py), configurable per test.

It exposes the names cockpit's NVML gateway uses, with pynvml's exception class names and
messages, so the gateway cannot tell it apart: devices, functions the card does not
support, functions an older binding lacks, a failing ``nvmlInit``, and a count of every
call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

NVML_TEMPERATURE_GPU = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_VALUE_NOT_AVAILABLE = 2**64 - 1
"""What NVML writes into usedGpuMemory when it cannot tell (old bindings pass it on)."""


class NVMLError(Exception):
    """Base of NVML errors; ``str()`` is NVML's message, as in pynvml."""

    message = "Unknown Error"

    def __str__(self) -> str:
        return self.message


def _error(name: str, message: str) -> type[NVMLError]:
    return type(name, (NVMLError,), {"message": message})


NVMLError_Uninitialized = _error("NVMLError_Uninitialized", "Uninitialized")
NVMLError_NotSupported = _error("NVMLError_NotSupported", "Not Supported")
NVMLError_NoPermission = _error("NVMLError_NoPermission", "Insufficient Permissions")
NVMLError_DriverNotLoaded = _error("NVMLError_DriverNotLoaded", "Driver Not Loaded")
NVMLError_LibraryNotFound = _error("NVMLError_LibraryNotFound", "NVML Shared Library Not Found")
NVMLError_FunctionNotFound = _error("NVMLError_FunctionNotFound", "Function Not Found")
NVMLError_GpuIsLost = _error("NVMLError_GpuIsLost", "GPU is lost")
NVMLError_Unknown = _error("NVMLError_Unknown", "Unknown Error")
NVMLError_LibRmVersionMismatch = _error(
    "NVMLError_LibRmVersionMismatch", "RM has detected an NVML/RM version mismatch."
)


@dataclass
class FakeDevice:
    """One fake GPU; defaults look like a busy RTX 3050 Laptop GPU."""

    name: str = "NVIDIA GeForce RTX 3050 Laptop GPU"
    uuid: str = "GPU-00000000-1111-2222-3333-444444444444"
    cc: tuple[int, int] = (8, 6)
    memory_total: int = 4 * 1024**3
    memory_used: int = 3 * 1024**3
    util_gpu: int = 97
    util_memory: int = 41
    temperature: int = 71
    power_mw: int = 48_250
    power_limit_mw: int = 60_000
    fan: int = 55
    sm_mhz: int = 1740
    mem_mhz: int = 6001
    compute: list[tuple[int, int | None]] = field(default_factory=lambda: [(4242, 2 * 1024**3)])
    """(pid, usedGpuMemory) per compute process; None as pynvml gives on WSL2/WDDM."""
    graphics: list[tuple[int, int | None]] = field(default_factory=list)
    lost: bool = False
    """True: getting its handle fails with "GPU is lost" (fell off the bus)."""


class FakeNvml:
    """Looks like the pynvml module to whoever calls ``getattr`` on it."""

    def __init__(
        self,
        devices: Iterable[FakeDevice] = (FakeDevice(),),
        *,
        init_error: type[Exception] | None = None,
        failing: dict[str, type[NVMLError]] | None = None,
        missing: Iterable[str] = (),
        driver: str = "591.44",
        cuda: int = 13010,
    ) -> None:
        """``failing``: function name -> error it raises; ``missing``: names not bound."""
        self.devices = list(devices)
        self.init_error = init_error
        self.failing = dict(failing or {})
        self.missing = set(missing)
        self.driver = driver
        self.cuda = cuda
        self.calls: Counter[str] = Counter()
        self.initialized = False

    def __getattr__(self, name: str) -> Any:
        if name in self.missing:
            raise AttributeError(name)
        if name.startswith("NVML") and name in globals():
            return globals()[name]
        impl = getattr(type(self), f"_{name}", None)
        if impl is None or not name.startswith("nvml"):
            raise AttributeError(name)
        return self._counted(name, impl)

    def _counted(self, name: str, impl: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            self.calls[name] += 1
            if name != "nvmlInit" and not self.initialized:
                raise NVMLError_Uninitialized()
            if name in self.failing:
                raise self.failing[name]()
            return impl(self, *args)

        return call

    def _nvmlInit(self) -> None:
        if self.init_error is not None:
            raise self.init_error()
        self.initialized = True

    def _nvmlShutdown(self) -> None:
        self.initialized = False

    def _nvmlDeviceGetCount(self) -> int:
        return len(self.devices)

    def _nvmlDeviceGetHandleByIndex(self, index: int) -> FakeDevice:
        if self.devices[index].lost:
            raise NVMLError_GpuIsLost()
        return self.devices[index]

    def _nvmlSystemGetDriverVersion(self) -> str:
        return self.driver

    def _nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return self.cuda

    def _nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.cuda

    def _nvmlDeviceGetName(self, device: FakeDevice) -> str:
        return device.name

    def _nvmlDeviceGetUUID(self, device: FakeDevice) -> str:
        return device.uuid

    def _nvmlDeviceGetCudaComputeCapability(self, device: FakeDevice) -> tuple[int, int]:
        return device.cc

    def _nvmlDeviceGetMemoryInfo(self, device: FakeDevice) -> SimpleNamespace:
        free = device.memory_total - device.memory_used
        return SimpleNamespace(total=device.memory_total, used=device.memory_used, free=free)

    def _nvmlDeviceGetUtilizationRates(self, device: FakeDevice) -> SimpleNamespace:
        return SimpleNamespace(gpu=device.util_gpu, memory=device.util_memory)

    def _nvmlDeviceGetTemperature(self, device: FakeDevice, sensor: int) -> int:
        assert sensor == NVML_TEMPERATURE_GPU
        return device.temperature

    def _nvmlDeviceGetPowerUsage(self, device: FakeDevice) -> int:
        return device.power_mw

    def _nvmlDeviceGetEnforcedPowerLimit(self, device: FakeDevice) -> int:
        return device.power_limit_mw

    def _nvmlDeviceGetFanSpeed(self, device: FakeDevice) -> int:
        return device.fan

    def _nvmlDeviceGetClockInfo(self, device: FakeDevice, clock: int) -> int:
        return {NVML_CLOCK_SM: device.sm_mhz, NVML_CLOCK_MEM: device.mem_mhz}[clock]

    def _nvmlDeviceGetComputeRunningProcesses(self, device: FakeDevice) -> list[SimpleNamespace]:
        return [SimpleNamespace(pid=pid, usedGpuMemory=mem) for pid, mem in device.compute]

    def _nvmlDeviceGetGraphicsRunningProcesses(self, device: FakeDevice) -> list[SimpleNamespace]:
        return [SimpleNamespace(pid=pid, usedGpuMemory=mem) for pid, mem in device.graphics]
