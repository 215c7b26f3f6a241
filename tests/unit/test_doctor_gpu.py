"""Doctor checks of the GPU path, on fabricated facts, probe results and GPUs."""

from __future__ import annotations

from types import MappingProxyType

from cockpit.doctor.checks import gpu as checks
from cockpit.doctor.probes import ProbeResult
from cockpit.hardware.snapshot import NvmlStatus
from tests.unit.doctor_fixtures import (
    TORCH,
    ctx,
    dist,
    facts,
    failed_probe,
    gpu,
    text,
    torch_probe,
    windows,
    wsl,
)

DOUBLE_FREE_STDERR = (
    "free(): double free detected in tcache 2\n"
    "Fatal Python error: Aborted\n\n"
    'Stack (most recent call first):\n  File "torch/cuda/__init__.py", line 174 in is_available\n'
)


def _crashed_torch(signal_name: str = "SIGABRT", stderr: str = DOUBLE_FREE_STDERR) -> ProbeResult:
    return ProbeResult(
        name="torch",
        ok=False,
        returncode=-6,
        signal_name=signal_name,
        stderr_tail=stderr,
        stage="torch.cuda.is_available()",
    )


def test_no_driver_is_a_warning_that_training_runs_on_cpu():
    found = checks.nvidia_driver(ctx(facts(TORCH)))
    assert found.status == "warn"
    assert "CPU" in found.detail and "NVML Shared Library Not Found" in found.detail


def test_no_driver_on_wsl_points_at_the_windows_driver():
    found = checks.nvidia_driver(ctx(wsl(TORCH)))
    assert "on Windows (not inside WSL)" in found.fix and "wsl --shutdown" in found.fix


def test_driver_lists_version_cuda_and_each_card():
    found = checks.nvidia_driver(ctx(facts(TORCH), gpus=(gpu(),)))
    assert found.status == "ok"
    assert "591.44" in found.detail and "13.1" in found.detail
    assert "RTX 3050 Laptop GPU, 4.0 GiB, sm_86" in found.detail


def test_wsl_double_free_sigabrt_is_named_with_the_wsl_fix():
    found = checks.torch(ctx(wsl(TORCH), _crashed_torch(), gpus=(gpu(),)))
    assert found.status == "fail"
    assert found.catalog_id == "wsl_double_free"
    assert "SIGABRT (double free…) during torch.cuda.is_available()" in found.detail
    assert "wsl --shutdown" in found.fix and "ldconfig -p | grep libcuda" in found.fix
    assert "--index-url https://download.pytorch.org/whl/cu126" in found.fix


def test_segfault_elsewhere_is_a_plain_crash_with_its_stage_and_stderr():
    probe = ProbeResult(
        name="torch",
        ok=False,
        returncode=-11,
        signal_name="SIGSEGV",
        stderr_tail="Fatal Python error: Segmentation fault",
        stage="import torch",
    )
    found = checks.torch(ctx(facts(TORCH), probe))
    assert found.status == "fail" and found.catalog_id is None
    assert "crashed with SIGSEGV during import torch" in found.detail
    assert "Segmentation fault" in found.detail


def test_hanging_torch_probe_is_a_hang_not_a_crash():
    probe = ProbeResult(
        name="torch",
        ok=False,
        returncode=None,
        timed_out=True,
        stage="torch.cuda.is_available()",
        timeout_s=20.0,
    )
    found = checks.torch(ctx(facts(TORCH), probe, gpus=(gpu(),)))
    assert found.status == "fail"
    assert "hung for more than 20 s during torch.cuda.is_available()" in found.detail
    assert "nvidia-smi" in found.fix


def test_cpu_build_with_an_nvidia_gpu_fails_with_a_cuda_reinstall():
    cpu_torch = torch_probe("2.7.1+cpu", cuda=None)
    found = checks.torch(ctx(facts(TORCH), cpu_torch, gpus=(gpu(),)))
    assert found.status == "fail"
    assert "CPU-only build" in found.detail
    assert "--index-url https://download.pytorch.org/whl/cu130" in found.fix


def test_cpu_build_without_gpu_is_fine():
    found = checks.torch(ctx(facts(TORCH), torch_probe("2.7.1+cpu", cuda=None)))
    assert found.status == "ok"


def test_cuda_build_newer_than_the_driver_fails():
    old_driver = gpu(cuda="11.8")
    found = checks.torch(ctx(facts(TORCH), torch_probe(), gpus=(old_driver,)))
    assert found.status == "fail"
    assert "built for CUDA 12.8" in found.detail and "up to 11.8" in found.detail
    assert "whl/cu118" in found.fix


def test_cuda_not_available_despite_a_gpu_names_cuda_visible_devices():
    hidden = facts(TORCH, env=MappingProxyType({"CUDA_VISIBLE_DEVICES": ""}))
    probe = torch_probe(cuda_available=False, device_count=0, devices=[])
    found = checks.torch(ctx(hidden, probe, gpus=(gpu(),)))
    assert found.status == "fail"
    assert "CUDA_VISIBLE_DEVICES=''" in found.detail


def test_missing_torch_fails_with_an_install_command_for_this_interpreter():
    found = checks.torch(ctx(facts(), gpus=(gpu(),)))
    assert found.status == "fail"
    assert found.fix.startswith("Install it: /home/ada/venvs/train/bin/python -m pip install")


def test_healthy_torch_reports_version_cuda_and_gpu():
    found = checks.torch(ctx(facts(TORCH), torch_probe(), gpus=(gpu(),)))
    assert found.status == "ok"
    assert "torch 2.7.1+cu128, CUDA 12.8" in found.detail and "RTX 3050" in found.detail


def test_rtx_50_series_on_a_cu124_wheel_fails_with_the_cu128_fix():
    blackwell = gpu("NVIDIA GeForce RTX 5070 Ti", capability=(12, 0), cuda="12.8")
    old_arch = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]
    probe = torch_probe("2.5.1+cu124", cuda="12.4", arch_list=old_arch)
    found = checks.torch_arch(ctx(facts(TORCH), probe, gpus=(blackwell,)))
    assert found.status == "fail" and found.catalog_id == "cuda_arch_unsupported"
    assert "sm_120" in found.detail and "no kernel image is available" in found.detail
    assert '"torch>=2.7"' in found.fix
    assert "--index-url https://download.pytorch.org/whl/cu128" in found.fix


def test_same_major_newer_minor_runs_older_cubins():
    ada = gpu("NVIDIA GeForce RTX 4060", capability=(8, 9))
    probe = torch_probe(arch_list=["sm_80", "sm_86", "sm_90"])
    assert checks.torch_arch(ctx(facts(TORCH), probe, gpus=(ada,))).status == "ok"


def test_ptx_runs_on_newer_gpus_but_arch_specific_cubins_do_not():
    assert checks.arch_supported(["sm_80", "compute_90"], (12, 0))
    assert not checks.arch_supported(["sm_90a"], (9, 0))
    assert not checks.arch_supported(["sm_86"], (8, 0))


def test_torch_arch_skips_without_gpu_or_working_torch():
    no_gpu = torch_probe(cuda_available=False, device_count=0, devices=[])
    assert checks.torch_arch(ctx(facts(TORCH), no_gpu)).status == "skip"
    broken = failed_probe("torch", "ImportError: libcudnn.so.9: cannot open shared object file")
    assert checks.torch_arch(ctx(facts(TORCH), broken, gpus=(gpu(),))).status == "skip"


def test_nvcc_major_mismatch_warns_about_extension_builds():
    old_nvcc = facts(TORCH, nvcc="/usr/bin/nvcc", nvcc_version="11.5")
    found = checks.cuda_toolkit(ctx(old_nvcc, torch_probe(), gpus=(gpu(),)))
    assert found.status == "warn"
    assert "CUDA_HOME=/usr/local/cuda-12.8" in found.fix


def test_no_nvcc_matters_only_when_deepspeed_must_compile():
    plain = checks.cuda_toolkit(ctx(facts(TORCH), torch_probe(), gpus=(gpu(),)))
    assert plain.status == "ok" and "Prebuilt wheels do not need them" in plain.detail
    with_ds = facts(TORCH, dist("deepspeed", "0.16.0"))
    found = checks.cuda_toolkit(ctx(with_ds, torch_probe(), gpus=(gpu(),)))
    assert found.status == "warn" and found.catalog_id == "flash_attn_build_no_cuda_home"


def test_windows_multi_gpu_has_no_nccl():
    two = (gpu(index=0), gpu(index=1))
    found = checks.nccl(ctx(windows(TORCH), torch_probe(nccl=False), gpus=two))
    assert found.status == "warn" and found.catalog_id == "nccl_missing_windows"
    assert "WSL2" in found.fix


def test_small_dev_shm_in_a_container_warns_with_docker_flag():
    tiny = facts(TORCH, in_container=True, shm_total_bytes=64 * 1024**2)
    found = checks.nccl(ctx(tiny, torch_probe(), gpus=(gpu(),)))
    assert found.status == "warn" and found.catalog_id == "nccl_shm_exhausted"
    assert "--shm-size=16g" in found.fix


def test_multi_gpu_linux_without_nccl_fails():
    two = (gpu(index=0), gpu(index=1))
    found = checks.nccl(ctx(facts(TORCH), torch_probe(nccl=False), gpus=two))
    assert found.status == "fail"


def test_simulated_gpu_is_labelled():
    found = checks.nvidia_driver(
        ctx(facts(TORCH), gpus=(gpu(),), nvml=NvmlStatus(True, simulated="rtx3050-4gb"))
    )
    assert "(simulated)" in text(found)
