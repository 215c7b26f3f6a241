"""The one door to NVML (the NVIDIA driver's management library, via nvidia-ml-py).

Every NVML call goes through ``_query``, which turns any NVML error (not supported on this
card, no permission, a binding older than the driver...) into ``None``, shown as "n/a" and
never as a fake 0. Failing to start NVML at all is not an exception either: it becomes an
``NvmlStatus`` whose explanation says what the failure means and what to try.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from cockpit.hardware.snapshot import GpuProcess, GpuSnapshot, NvmlStatus

# c_ulonglong(-1): what NVML puts in usedGpuMemory when it cannot tell (WSL2/WDDM).
_NOT_AVAILABLE = 2**64 - 1

# Keyed by pynvml's exception class names, so a fake module with the same names works.
_INIT_EXPLANATIONS: dict[str, str] = {
    "NVMLError_LibraryNotFound": (
        "No NVIDIA driver library (libnvidia-ml.so / nvml.dll) on this machine: no NVIDIA"
        " GPU, the driver is not installed, or inside a container started without --gpus /"
        " the NVIDIA container toolkit. On WSL2 the driver comes from Windows — update the"
        " Windows NVIDIA driver, never install a Linux driver inside WSL."
    ),
    "NVMLError_DriverNotLoaded": (
        "The NVIDIA driver is installed but its kernel module is not loaded. This happens"
        " after a kernel or driver update without a reboot, when Secure Boot refuses the"
        " unsigned module, or when nouveau holds the card. Reboot and run `nvidia-smi`; if"
        " it still fails, reinstall the driver (e.g. `sudo ubuntu-drivers install`) or"
        " enrol its signing key for Secure Boot."
    ),
    "NVMLError_NoPermission": (
        "The NVIDIA driver refused access: this user may not open the GPU device files"
        " (/dev/nvidia*). Add the user to the group that owns them (often `video` or"
        " `render`) and log in again, pass the devices into the container (--gpus all), or"
        " ask the admin of a shared machine."
    ),
    "NVMLError_LibRmVersionMismatch": (
        "Driver/library version mismatch: the NVIDIA driver was updated but the old kernel"
        " module is still loaded. Reboot (or reload the nvidia kernel modules), then check"
        " with `nvidia-smi`."
    ),
}
_IMPORT_EXPLANATION = (
    "The nvidia-ml-py package (imported as pynvml) is missing from cockpit's environment,"
    " so cockpit cannot ask the driver about GPUs. Reinstall cockpit, or run"
    " `pip install nvidia-ml-py` in cockpit's own environment (not the training one)."
)
_NO_DEVICES_ERROR = "No NVIDIA GPU found (NVML reports 0 devices)"
_NO_DEVICES_EXPLANATION = (
    "The NVIDIA driver is running but sees no GPU. In a container, pass the GPUs through"
    " (--gpus all, NVIDIA_VISIBLE_DEVICES); on a hybrid-graphics laptop make sure the"
    " NVIDIA GPU is enabled in the BIOS or vendor tool; list what the driver sees with"
    " `nvidia-smi -L`."
)
_GENERIC_EXPLANATION = (
    "NVML, the NVIDIA driver's management library, failed to start, so GPU values are"
    " unavailable. Run `nvidia-smi`: if it fails with the same message, the driver needs"
    " repair (reinstall it, then reboot)."
)


@dataclass(frozen=True)
class _StaticFacts:
    """What does not change while cockpit runs, read once per GPU."""

    name: str
    uuid: str | None
    compute_capability: tuple[int, int] | None


def explain_init_error(error: BaseException) -> str:
    """What a failure to start NVML means for the user and what to try."""
    if isinstance(error, ImportError):
        return _IMPORT_EXPLANATION
    text = _INIT_EXPLANATIONS.get(type(error).__name__, _GENERIC_EXPLANATION)
    return text


def cuda_version_text(version: int | None) -> str | None:
    """NVML's integer CUDA driver version as text: 13010 -> "13.1"."""
    if version is None or version <= 0:
        return None
    return f"{version // 1000}.{(version % 1000) // 10}"


def _error_types(nvml: Any) -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [nvml.NVMLError]
    mismatch = getattr(nvml, "NVMLLibraryMismatchError", None)
    if isinstance(mismatch, type):
        types.append(mismatch)
    return tuple(types)


def _watts(milliwatts: int | None) -> float | None:
    return None if milliwatts is None else milliwatts / 1000.0


def _process_memory(raw: Any) -> int | None:
    used = getattr(raw, "usedGpuMemory", None)
    if used is None or used >= _NOT_AVAILABLE:
        return None
    return int(used)


class NvmlSource:
    """Live GPUs from NVML; the only object in cockpit that holds NVML handles."""

    def __init__(self, nvml_module: ModuleType | Any | None = None) -> None:
        self._nvml: Any = nvml_module
        self._lock = threading.RLock()
        self._status: NvmlStatus | None = None
        self._errors: tuple[type[BaseException], ...] = ()
        self._handles: list[tuple[int, Any]] = []
        """(NVML index, handle): a GPU whose handle fails keeps the others' numbering."""
        self._static: dict[int, _StaticFacts] = {}
        self._driver: tuple[str | None, str | None] | None = None

    def status(self) -> NvmlStatus:
        """Start NVML on first use (once) and say whether GPUs can be read."""
        with self._lock:
            if self._status is None:
                self._status = self._start()
            return self._status

    def sample(self) -> tuple[NvmlStatus, tuple[GpuSnapshot, ...]]:
        """The status and one snapshot per GPU (empty when NVML is unavailable)."""
        with self._lock:
            status = self.status()
            if not status.available:
                return status, ()
            gpus = tuple(self._gpu(index, handle) for index, handle in self._handles)
            return status, gpus

    def close(self) -> None:
        """Shut NVML down; a later ``status()`` starts it again."""
        with self._lock:
            if self._status is not None and self._status.available:
                self._query("nvmlShutdown")
            self._status = None
            self._handles = []
            self._static = {}
            self._driver = None

    def _start(self) -> NvmlStatus:
        if self._nvml is None:
            try:
                import pynvml
            except ImportError as exc:
                return NvmlStatus(False, error=str(exc), explanation=explain_init_error(exc))
            self._nvml = pynvml
        self._errors = _error_types(self._nvml)
        try:
            self._nvml.nvmlInit()
        except Exception as exc:  # NVMLError mostly; a broken library may raise anything
            error = str(exc) or type(exc).__name__
            return NvmlStatus(False, error=error, explanation=explain_init_error(exc))
        count = self._query("nvmlDeviceGetCount") or 0
        handles = [(i, self._query("nvmlDeviceGetHandleByIndex", i)) for i in range(count)]
        self._handles = [(i, h) for i, h in handles if h is not None]
        if not self._handles:
            self._query("nvmlShutdown")
            explanation = _NO_DEVICES_EXPLANATION
            return NvmlStatus(False, error=_NO_DEVICES_ERROR, explanation=explanation)
        return NvmlStatus(available=True)

    def _query(self, fn_name: str, *args: Any) -> Any | None:
        """Call one NVML function; any NVML error, or a binding without it, gives None."""
        fn = getattr(self._nvml, fn_name, None)
        if fn is None:
            return None
        try:
            return fn(*args)
        except self._errors:
            return None

    def _driver_versions(self) -> tuple[str | None, str | None]:
        if self._driver is None:
            cuda = self._query("nvmlSystemGetCudaDriverVersion_v2")
            if cuda is None:
                cuda = self._query("nvmlSystemGetCudaDriverVersion")
            self._driver = (self._query("nvmlSystemGetDriverVersion"), cuda_version_text(cuda))
        return self._driver

    def _static_facts(self, index: int, handle: Any) -> _StaticFacts:
        facts = self._static.get(index)
        if facts is None:
            cc = self._query("nvmlDeviceGetCudaComputeCapability", handle)
            facts = _StaticFacts(
                name=self._query("nvmlDeviceGetName", handle) or f"unknown GPU {index}",
                uuid=self._query("nvmlDeviceGetUUID", handle),
                compute_capability=None if cc is None else (int(cc[0]), int(cc[1])),
            )
            self._static[index] = facts
        return facts

    def _gpu(self, index: int, handle: Any) -> GpuSnapshot:
        nvml = self._nvml
        facts = self._static_facts(index, handle)
        driver, cuda = self._driver_versions()
        memory = self._query("nvmlDeviceGetMemoryInfo", handle)
        rates = self._query("nvmlDeviceGetUtilizationRates", handle)
        temperature = self._query("nvmlDeviceGetTemperature", handle, nvml.NVML_TEMPERATURE_GPU)
        fan = self._query("nvmlDeviceGetFanSpeed", handle)
        return GpuSnapshot(
            index=index,
            name=facts.name,
            uuid=facts.uuid,
            driver_version=driver,
            cuda_driver_version=cuda,
            compute_capability=facts.compute_capability,
            memory_total_bytes=None if memory is None else int(memory.total),
            memory_used_bytes=None if memory is None else int(memory.used),
            utilization_pct=None if rates is None else float(rates.gpu),
            memory_utilization_pct=None if rates is None else float(rates.memory),
            temperature_c=None if temperature is None else float(temperature),
            power_draw_w=_watts(self._query("nvmlDeviceGetPowerUsage", handle)),
            power_limit_w=_watts(self._query("nvmlDeviceGetEnforcedPowerLimit", handle)),
            fan_pct=None if fan is None else float(fan),
            clock_sm_mhz=self._query("nvmlDeviceGetClockInfo", handle, nvml.NVML_CLOCK_SM),
            clock_mem_mhz=self._query("nvmlDeviceGetClockInfo", handle, nvml.NVML_CLOCK_MEM),
            processes=self._processes(handle),
        )

    def _processes(self, handle: Any) -> tuple[GpuProcess, ...] | None:
        compute = self._query("nvmlDeviceGetComputeRunningProcesses", handle)
        graphics = self._query("nvmlDeviceGetGraphicsRunningProcesses", handle)
        if compute is None and graphics is None:
            return None
        found: dict[int, GpuProcess] = {}
        # A pid in both lists (a "C+G" process on Windows) is shown once, as compute.
        for kind, raws in (("compute", compute or []), ("graphics", graphics or [])):
            for raw in raws:
                pid = int(raw.pid)
                if pid not in found:
                    found[pid] = GpuProcess(pid, None, None, _process_memory(raw), kind=kind)
        return tuple(found.values())
