"""Fabricated doctor inputs: facts of a typical WSL/Linux training venv, probe results, GPUs.

Each test starts from these defaults and changes only what its scenario is about.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from cockpit.doctor.context import DoctorContext, ModelSize
from cockpit.doctor.facts import Distribution, Facts
from cockpit.doctor.finding import Finding
from cockpit.doctor.probes import ProbeResult
from cockpit.hardware.snapshot import GIB, GpuSnapshot, NvmlStatus

PYTHON = "/home/ada/venvs/train/bin/python"
PREFIX = "/home/ada/venvs/train"
SECRET_TOKEN = "hf_SuperSecretTokenValue1234567890"

LINUX_MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.9",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.6.87.2-microsoft-standard-WSL2",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.11.9",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "sys_platform": "linux",
}
WINDOWS_MARKERS = {
    **LINUX_MARKERS,
    "os_name": "nt",
    "platform_machine": "AMD64",
    "platform_release": "10",
    "platform_system": "Windows",
    "sys_platform": "win32",
}


def dist(name: str, version: str | None, *requires: str, **extra: Any) -> Distribution:
    """An installed distribution with the given Requires-Dist lines."""
    return Distribution(name=name, version=version, requires=tuple(requires), **extra)


def facts(*dists: Distribution, **overrides: Any) -> Facts:
    """A healthy Linux venv with a C compiler, Python.h, plenty of RAM/disk, no token."""
    base = Facts(
        executable=PYTHON,
        version="3.11.9",
        prefix=PREFIX,
        base_prefix="/usr",
        platform="linux",
        os_release="6.8.0-45-generic",
        machine="x86_64",
        distributions=tuple(dists),
        marker_env=MappingProxyType(dict(LINUX_MARKERS)),
        include_dir="/usr/include/python3.11",
        python_h=True,
        compilers=MappingProxyType({"gcc": "/usr/bin/gcc", "cc": "/usr/bin/cc"}),
        path_tools=MappingProxyType(
            {
                "python": {"path": f"{PREFIX}/bin/python", "executable": PYTHON, "prefix": PREFIX},
                "pip": {"path": f"{PREFIX}/bin/pip", "location": f"{PREFIX}/lib/site/pip"},
            }
        ),
        stdout_encoding="utf-8",
        preferred_encoding="UTF-8",
        hf_home="/home/ada/.cache/huggingface",
        hf_cache="/home/ada/.cache/huggingface/hub",
        hf_cache_exists=True,
        hf_cache_free_bytes=200 * GIB,
        hf_cache_total_bytes=500 * GIB,
        ram_total_bytes=32 * GIB,
        ram_available_bytes=24 * GIB,
        shm_total_bytes=16 * GIB,
        shm_free_bytes=16 * GIB,
    )
    return replace(base, **overrides)


def wsl(*dists: Distribution, **overrides: Any) -> Facts:
    """WSL2 Ubuntu facts."""
    defaults: dict[str, Any] = {
        "is_wsl": True,
        "wsl_version": 2,
        "wsl_distro": "Ubuntu-22.04",
        "os_release": "6.6.87.2-microsoft-standard-WSL2",
    }
    return facts(*dists, **{**defaults, **overrides})


def windows(*dists: Distribution, **overrides: Any) -> Facts:
    """Native Windows conda env, Git Bash style (stdout is a pipe, GBK locale)."""
    exe = r"C:\Users\ada\miniconda3\envs\arpo\python.exe"
    defaults: dict[str, Any] = {
        "executable": exe,
        "prefix": r"C:\Users\ada\miniconda3\envs\arpo",
        "base_prefix": r"C:\Users\ada\miniconda3\envs\arpo",
        "is_conda": True,
        "conda_env": "arpo",
        "platform": "win32",
        "os_release": "11",
        "os_version": "10.0.26100",
        "machine": "AMD64",
        "marker_env": MappingProxyType(dict(WINDOWS_MARKERS)),
        "compilers": MappingProxyType({}),
        "path_tools": MappingProxyType({}),
        "shm_total_bytes": None,
    }
    defaults.update(overrides)
    return facts(*dists, **defaults)


def gpu(
    name: str = "NVIDIA GeForce RTX 3050 Laptop GPU",
    capability: tuple[int, int] = (8, 6),
    cuda: str = "13.1",
    index: int = 0,
    memory_gib: int = 4,
) -> GpuSnapshot:
    return GpuSnapshot(
        index=index,
        name=name,
        driver_version="591.44",
        cuda_driver_version=cuda,
        compute_capability=capability,
        memory_total_bytes=memory_gib * GIB,
    )


def ok_probe(name: str, **data: Any) -> ProbeResult:
    return ProbeResult(name=name, ok=True, data=MappingProxyType(data), stage=f"import {name}")


def failed_probe(name: str, error: str, stderr: str = "", **data: Any) -> ProbeResult:
    payload = {"error": error, "error_type": error.split(":")[0], **data}
    return ProbeResult(
        name=name, ok=False, data=MappingProxyType(payload), returncode=0, stderr_tail=stderr
    )


def torch_probe(version: str = "2.7.1+cu128", cuda: str | None = "12.8", **data: Any):
    """A torch probe that imported fine and (by default) sees one RTX 3050."""
    values: dict[str, Any] = {
        "version": version,
        "cuda": cuda,
        "hip": None,
        "has_int1": True,
        "arch_list": ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_120"],
        "cuda_available": cuda is not None,
        "device_count": 1 if cuda else 0,
        "devices": [{"name": "NVIDIA GeForce RTX 3050 Laptop GPU", "capability": [8, 6]}]
        if cuda
        else [],
        "nccl": cuda is not None,
        "mps": False,
    }
    values.update(data)
    return ok_probe("torch", **values)


def ctx(
    the_facts: Facts,
    *probes: ProbeResult,
    gpus: tuple[GpuSnapshot, ...] = (),
    models: tuple[ModelSize, ...] = (),
    nvml: NvmlStatus | None = None,
) -> DoctorContext:
    status = nvml or (
        NvmlStatus(True) if gpus else NvmlStatus(False, "NVML Shared Library Not Found")
    )
    return DoctorContext(
        facts=the_facts,
        probes=MappingProxyType({p.name: p for p in probes}),
        nvml=status,
        gpus=gpus,
        models=models,
    )


def text(found: Finding | list[Finding]) -> str:
    """Everything a user can read in the finding(s)."""
    items = found if isinstance(found, list) else [found]
    return "\n".join(f"{f.title} {f.detail} {f.fix}" for f in items)


TORCH = dist("torch", "2.7.1+cu128", "filelock", "typing-extensions>=4.10.0")
