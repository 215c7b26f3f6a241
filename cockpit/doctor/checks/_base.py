"""Shared vocabulary of the checks: ids and titles, the ``check`` decorator, small helpers.

Check ids are a stable contract (the UI, `cockpit doctor --json` and the known-error
catalog refer to them), so they are declared once, here, with their titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from packaging.version import InvalidVersion, Version

from cockpit.doctor.context import DoctorContext
from cockpit.doctor.finding import Finding, Status
from cockpit.hardware.cuda import cuda_tuple as cuda_tuple  # the checks' import, kept

TITLES: dict[str, str] = {
    "interpreter": "Python interpreter",
    "broken_installs": "Installed packages are intact",
    "python_version": "Python version",
    "platform": "Operating system",
    "nvidia_driver": "NVIDIA driver",
    "torch": "PyTorch and CUDA",
    "torch_arch": "PyTorch kernels for your GPU",
    "requirements": "Package requirements",
    "torchao": "torchao",
    "triton_toolchain": "Triton compiler toolchain",
    "inductor_options": "torch.compile options used by Unsloth",
    "unsloth": "Unsloth",
    "bitsandbytes": "bitsandbytes (4/8-bit)",
    "attention_kernels": "flash-attn / xformers",
    "cuda_toolkit": "CUDA toolkit (nvcc)",
    "nccl": "NCCL and shared memory",
    "numpy_abi": "NumPy ABI",
    "pydantic": "pydantic / pydantic-settings",
    "ray": "Ray",
    "hf_hub": "Hugging Face Hub",
    "console_encoding": "Console encoding",
    "resources": "RAM and disk headroom",
}

CheckFn = Callable[[DoctorContext], "Finding | list[Finding]"]
F = TypeVar("F", bound=CheckFn)


def check(check_id: str) -> Callable[[F], F]:
    """Mark a function as the check with this id (which must be in TITLES)."""
    if check_id not in TITLES:
        raise KeyError(f"unknown check id {check_id!r}")

    def mark(fn: F) -> F:
        fn.check_id = check_id  # type: ignore[attr-defined]
        return fn

    return mark


def finding(
    check_id: str, status: Status, detail: str, fix: str = "", catalog_id: str | None = None
) -> Finding:
    """A Finding for `check_id`, titled from TITLES."""
    return Finding(check_id, TITLES[check_id], status, detail, fix, catalog_id)


def version(text: str | None) -> Version | None:
    """A parsed version, or None when absent or not PEP 440."""
    if not text:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def gib(nbytes: float | None) -> str:
    """Bytes as GiB with one decimal ("3.9 GiB"), or "n/a"."""
    if nbytes is None:
        return "n/a"
    return f"{nbytes / 1024**3:.1f} GiB"


def cuda_wheel_tag(torch_version: str | None) -> str | None:
    """The CUDA flavour in a torch version's local part: "2.7.1+cu128" -> "cu128"."""
    match = re.search(r"\+(cu\d+|rocm[\d.]+|cpu|xpu)", torch_version or "")
    return match.group(1) if match else None


def cuda_from_tag(tag: str | None) -> str | None:
    """ "cu128" -> "12.8", "cu118" -> "11.8"."""
    match = re.fullmatch(r"cu(\d{2})(\d+)", tag or "")
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None
