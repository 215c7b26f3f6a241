"""Every doctor check, in dependency order (interpreter before torch before Unsloth), so
that among findings of one status the first shown is the one to fix first."""

from __future__ import annotations

from cockpit.doctor.checks import compat, gpu, host, python_env, requirements, stack
from cockpit.doctor.checks._base import TITLES, CheckFn, check, finding

ALL_CHECKS: tuple[CheckFn, ...] = (
    python_env.interpreter,
    python_env.broken_installs,
    python_env.python_version,
    python_env.platform,
    gpu.nvidia_driver,
    gpu.torch,
    gpu.torch_arch,
    requirements.requirements,
    stack.torchao,
    stack.triton_toolchain,
    stack.inductor_options,
    stack.unsloth,
    stack.bitsandbytes,
    stack.attention_kernels,
    gpu.cuda_toolkit,
    gpu.nccl,
    compat.numpy_abi,
    compat.pydantic,
    compat.ray,
    host.hf_hub,
    python_env.console_encoding,
    host.resources,
)

__all__ = ["ALL_CHECKS", "TITLES", "CheckFn", "check", "finding"]
