"""The NVML gateway: values a user reads off the Hardware place, and what NVML failures say."""

from __future__ import annotations

import sys

import pytest

from cockpit.hardware.format import gpu_line, snapshot_lines
from cockpit.hardware.nvml import NvmlSource, cuda_version_text
from cockpit.hardware.snapshot import GIB, HostSnapshot, MachineSnapshot
from tests.unit import fake_pynvml as fake
from tests.unit.fake_pynvml import FakeDevice, FakeNvml

HOST = HostSnapshot(0.0, (0.0,), 1, GIB, 0, GIB, 0, 0, None)


def _one_gpu(nvml: FakeNvml):
    status, gpus = NvmlSource(nvml).sample()
    assert status.available, status
    assert len(gpus) == 1
    return gpus[0]


def test_values_are_mapped_and_converted_to_display_units():
    gpu = _one_gpu(FakeNvml())
    assert gpu.name == "NVIDIA GeForce RTX 3050 Laptop GPU"
    assert gpu.uuid == "GPU-00000000-1111-2222-3333-444444444444"
    assert gpu.driver_version == "591.44"
    assert gpu.cuda_driver_version == "13.1"
    assert gpu.compute_capability == (8, 6)
    assert (gpu.memory_used_bytes, gpu.memory_total_bytes) == (3 * GIB, 4 * GIB)
    assert (gpu.utilization_pct, gpu.memory_utilization_pct) == (97.0, 41.0)
    assert gpu.temperature_c == 71.0
    assert (gpu.power_draw_w, gpu.power_limit_w) == (48.25, 60.0)  # NVML speaks milliwatts
    assert gpu.fan_pct == 55.0
    assert (gpu.clock_sm_mhz, gpu.clock_mem_mhz) == (1740, 6001)
    assert not gpu.simulated
    assert gpu_line(gpu) == (
        "GPU0 NVIDIA GeForce RTX 3050 Laptop GPU | 3.0/4.0 GiB 75% | util 97% | 71°C"
        " | 48/60 W | fan 55% | sm 1740 MHz mem 6001 MHz | cc 8.6 | drv 591.44 CUDA 13.1"
    )


@pytest.mark.parametrize(
    ("raw", "text"), [(13010, "13.1"), (12080, "12.8"), (11040, "11.4"), (None, None), (0, None)]
)
def test_cuda_driver_version_reads_like_nvidia_smi(raw, text):
    assert cuda_version_text(raw) == text


@pytest.mark.parametrize(
    ("function", "fields"),
    [
        ("nvmlDeviceGetFanSpeed", ["fan_pct"]),
        ("nvmlDeviceGetPowerUsage", ["power_draw_w"]),
        ("nvmlDeviceGetEnforcedPowerLimit", ["power_limit_w"]),
        ("nvmlDeviceGetTemperature", ["temperature_c"]),
        ("nvmlDeviceGetUtilizationRates", ["utilization_pct", "memory_utilization_pct"]),
        ("nvmlDeviceGetMemoryInfo", ["memory_used_bytes", "memory_total_bytes"]),
        ("nvmlDeviceGetClockInfo", ["clock_sm_mhz", "clock_mem_mhz"]),
        ("nvmlDeviceGetCudaComputeCapability", ["compute_capability"]),
        ("nvmlDeviceGetUUID", ["uuid"]),
        ("nvmlSystemGetDriverVersion", ["driver_version"]),
    ],
)
@pytest.mark.parametrize(
    "error", [fake.NVMLError_NotSupported, fake.NVMLError_NoPermission, fake.NVMLError_GpuIsLost]
)
def test_a_value_nvml_cannot_give_is_none_never_zero(function, fields, error):
    gpu = _one_gpu(FakeNvml(failing={function: error}))
    for name in fields:
        assert getattr(gpu, name) is None, name
    assert gpu.name == "NVIDIA GeForce RTX 3050 Laptop GPU"  # the rest still reads


def test_laptop_without_fan_sensor_shows_fan_na():
    gpu = _one_gpu(FakeNvml(failing={"nvmlDeviceGetFanSpeed": fake.NVMLError_NotSupported}))
    assert "fan n/a" in gpu_line(gpu)
    assert gpu.temperature_c == 71.0


def test_an_older_binding_without_the_v2_cuda_call_falls_back():
    gpu = _one_gpu(FakeNvml(missing={"nvmlSystemGetCudaDriverVersion_v2"}, cuda=12080))
    assert gpu.cuda_driver_version == "12.8"


def test_processes_keep_pid_and_memory_and_leave_user_and_command_to_the_host():
    device = FakeDevice(compute=[(4242, 2 * GIB)], graphics=[(1873, 200 * 1024**2)])
    procs = _one_gpu(FakeNvml([device])).processes
    assert procs is not None
    assert [(p.pid, p.kind, p.used_memory_bytes) for p in procs] == [
        (4242, "compute", 2 * GIB),
        (1873, "graphics", 200 * 1024**2),
    ]
    assert all(p.user is None and p.command is None for p in procs)


@pytest.mark.parametrize("raw", [None, fake.NVML_VALUE_NOT_AVAILABLE])
def test_process_memory_hidden_by_the_driver_is_none_as_on_wsl2(raw):
    procs = _one_gpu(FakeNvml([FakeDevice(compute=[(77, raw)])])).processes
    assert procs is not None
    assert [(p.pid, p.used_memory_bytes) for p in procs] == [(77, None)]


def test_a_process_in_both_lists_is_shown_once():
    device = FakeDevice(compute=[(9, GIB)], graphics=[(9, GIB), (10, GIB)])
    procs = _one_gpu(FakeNvml([device])).processes
    assert procs is not None
    assert [(p.pid, p.kind) for p in procs] == [(9, "compute"), (10, "graphics")]


def test_no_process_table_at_all_is_none_not_an_empty_list():
    failing = {
        "nvmlDeviceGetComputeRunningProcesses": fake.NVMLError_NotSupported,
        "nvmlDeviceGetGraphicsRunningProcesses": fake.NVMLError_NotSupported,
    }
    assert _one_gpu(FakeNvml(failing=failing)).processes is None


def test_static_facts_are_read_once_dynamic_values_every_sample():
    nvml = FakeNvml([FakeDevice(), FakeDevice(name="NVIDIA GeForce RTX 4090")])
    source = NvmlSource(nvml)
    for _ in range(3):
        _, gpus = source.sample()
    assert [g.name for g in gpus] == [
        "NVIDIA GeForce RTX 3050 Laptop GPU",
        "NVIDIA GeForce RTX 4090",
    ]
    assert nvml.calls["nvmlInit"] == 1
    assert nvml.calls["nvmlDeviceGetName"] == 2
    assert nvml.calls["nvmlDeviceGetUUID"] == 2
    assert nvml.calls["nvmlDeviceGetCudaComputeCapability"] == 2
    assert nvml.calls["nvmlSystemGetDriverVersion"] == 1
    assert nvml.calls["nvmlDeviceGetMemoryInfo"] == 6
    assert nvml.calls["nvmlDeviceGetPowerUsage"] == 6


def test_nvml_starts_lazily_and_close_shuts_it_down():
    nvml = FakeNvml()
    source = NvmlSource(nvml)
    assert nvml.calls["nvmlInit"] == 0
    assert source.status().available
    source.close()
    assert nvml.calls["nvmlShutdown"] == 1 and not nvml.initialized
    assert source.sample()[1][0].utilization_pct == 97.0  # starts again on demand
    assert nvml.calls["nvmlInit"] == 2


@pytest.mark.parametrize(
    ("error", "message", "advice"),
    [
        (fake.NVMLError_LibraryNotFound, "NVML Shared Library Not Found", "Windows NVIDIA driver"),
        (fake.NVMLError_DriverNotLoaded, "Driver Not Loaded", "Reboot"),
        (fake.NVMLError_NoPermission, "Insufficient Permissions", "/dev/nvidia"),
        (fake.NVMLError_LibRmVersionMismatch, "version mismatch", "Reboot"),
        (fake.NVMLError_Unknown, "Unknown Error", "nvidia-smi"),
    ],
)
def test_nvml_start_failure_is_a_status_with_a_specific_explanation(error, message, advice):
    nvml = FakeNvml(init_error=error)
    status, gpus = NvmlSource(nvml).sample()
    assert gpus == ()
    assert not status.available and status.simulated is None
    assert message in (status.error or "")
    explanation = status.explanation or ""
    assert advice in explanation
    assert "--simulate" not in explanation  # next steps are the caller's (panel, watch line)


def test_a_broken_library_raising_something_else_is_still_a_status():
    status = NvmlSource(FakeNvml(init_error=OSError)).status()
    assert not status.available and "nvidia-smi" in (status.explanation or "")


def test_library_not_found_tells_wsl_users_not_to_install_a_linux_driver():
    status = NvmlSource(FakeNvml(init_error=fake.NVMLError_LibraryNotFound)).status()
    assert "never install a Linux driver inside WSL" in (status.explanation or "")
    assert "--gpus" in (status.explanation or "")


def test_a_driver_without_gpus_says_so():
    nvml = FakeNvml(devices=[])
    status, gpus = NvmlSource(nvml).sample()
    assert (status.available, gpus) == (False, ())
    assert "0 devices" in (status.error or "")
    assert "nvidia-smi -L" in (status.explanation or "")
    assert nvml.calls["nvmlShutdown"] == 1


def test_missing_pynvml_package_is_a_status_not_an_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` fail
    status, gpus = NvmlSource().sample()
    assert (status.available, gpus) == (False, ())
    assert "pip install nvidia-ml-py" in (status.explanation or "")


def test_the_watch_line_for_no_gpu_gives_the_error_and_the_first_sentence():
    status, _ = NvmlSource(FakeNvml(init_error=fake.NVMLError_LibraryNotFound)).sample()
    lines = snapshot_lines(MachineSnapshot(0.0, status, (), HOST))
    assert lines[0] == (
        "GPU  none: NVML Shared Library Not Found — No NVIDIA driver library"
        " (libnvidia-ml.so / nvml.dll) on this machine: no NVIDIA GPU, the driver is not"
        " installed, or inside a container started without --gpus / the NVIDIA container"
        " toolkit. (`cockpit doctor` checks the stack; `cockpit --simulate rtx3050-4gb`"
        " demos one)"
    )
    assert lines[1].startswith("host | ")


def test_the_real_pynvml_on_this_machine_never_raises():
    source = NvmlSource()
    status, gpus = source.sample()
    source.close()
    if status.available:  # a machine with an NVIDIA driver
        assert gpus and all(g.name and g.memory_total_bytes for g in gpus)
    else:  # CI and this dev box: no driver library
        assert gpus == ()
        assert status.error == "NVML Shared Library Not Found"
        assert "libnvidia-ml.so" in (status.explanation or "")


def test_a_gpu_whose_handle_fails_does_not_renumber_the_others():
    nvml = FakeNvml([FakeDevice(name="first", lost=True), FakeDevice(name="second")])
    status, gpus = NvmlSource(nvml).sample()
    assert status.available
    assert [(g.index, g.name) for g in gpus] == [(1, "second")]
