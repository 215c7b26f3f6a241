"""Checks of the GPU path: driver, torch's CUDA build and kernels, toolkit, NCCL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cockpit.doctor.checks._base import (
    check,
    cuda_from_tag,
    cuda_tuple,
    cuda_wheel_tag,
    finding,
    gib,
    version,
)
from cockpit.doctor.context import DoctorContext
from cockpit.doctor.finding import Finding
from cockpit.doctor.probes import ProbeResult
from cockpit.hardware.cuda import driver_too_old
from cockpit.hardware.snapshot import GpuSnapshot

_INDEX = "https://download.pytorch.org/whl/"
DRIVER_CAUSE = "cuda_driver_too_old"
"""Catalog id of a driver older than torch's CUDA (pre-flight refuses it with the same id)."""
# (lowest driver CUDA, wheel tag), newest first.
_WHEEL_TAGS = (((13, 0), "cu130"), ((12, 8), "cu128"), ((12, 0), "cu126"), ((11, 8), "cu118"))


def driver_cuda(ctx: DoctorContext) -> tuple[int, int] | None:
    """The highest CUDA version the driver supports, from NVML."""
    versions = [cuda_tuple(gpu.cuda_driver_version) for gpu in ctx.gpus]
    known = [v for v in versions if v]
    return min(known) if known else None


def capabilities(ctx: DoctorContext) -> list[tuple[str, tuple[int, int]]]:
    """(label, compute capability) of each GPU, from NVML or else from the torch probe."""
    found = [
        (f"GPU {gpu.index} {gpu.name}", gpu.compute_capability)
        for gpu in ctx.gpus
        if gpu.compute_capability
    ]
    if found:
        return found
    probe = ctx.probe("torch")
    devices = probe.data.get("devices", []) if probe else []
    return [
        (f"GPU {i} {dev.get('name', '?')}", (int(dev["capability"][0]), int(dev["capability"][1])))
        for i, dev in enumerate(devices)
        if dev.get("capability")
    ]


def wheel_tag(driver: tuple[int, int] | None, newest_arch: tuple[int, int] | None = None) -> str:
    """The newest PyTorch CUDA wheel flavour this driver can run ("cu128")."""
    if newest_arch and newest_arch >= (10, 0):  # Blackwell kernels first shipped in cu128
        return "cu130" if driver and driver >= (13, 0) else "cu128"
    for lowest, tag in _WHEEL_TAGS:
        if driver is None or driver >= lowest:
            return tag if driver else "cu128"
    return "cu118"


def torch_install(ctx: DoctorContext, tag: str, spec: str | None = None) -> str:
    """Reinstall torch (and its installed siblings) from the PyTorch index for `tag`.

    Without `spec` the installed torch version is kept, so only the CUDA flavour changes.
    """
    if spec is None:
        dist = ctx.facts.dist("torch")
        installed = version(dist.version if dist else None)
        spec = f"torch=={installed.base_version}" if installed else "torch"
    names = [spec] + [n for n in ("torchvision", "torchaudio") if ctx.facts.has(n)]
    return ctx.pip_install(*names, extra=f"--force-reinstall --index-url {_INDEX}{tag}")


@check("nvidia_driver")
def nvidia_driver(ctx: DoctorContext) -> Finding:
    """Is there an NVIDIA driver and GPU, which CUDA version can it run, which cards."""
    if ctx.facts.platform == "darwin":
        return finding("nvidia_driver", "skip", "macOS has no NVIDIA driver.")
    if not ctx.nvml.available or not ctx.gpus:
        why = ctx.nvml.error or "NVML reports no GPU"
        detail = (
            f"No NVIDIA GPU visible ({why}). Training runs on the CPU: fine for the tiny demo"
            " model and for checking a pipeline, far too slow for real models."
        )
        # The gateway's explanation ends by pointing at the doctor itself: keep what precedes.
        explanation = ctx.nvml.explanation or ""
        fix = explanation or "Install the NVIDIA driver and check with `nvidia-smi`."
        if ctx.facts.is_wsl:
            fix = (
                "On WSL2 install/update the NVIDIA driver on Windows (not inside WSL), run"
                " `wsl --shutdown`, reopen WSL and check `nvidia-smi`."
            )
        return finding("nvidia_driver", "warn", detail, fix)
    first = ctx.gpus[0]
    cards = "; ".join(_card(gpu) for gpu in ctx.gpus)
    simulated = " (simulated)" if ctx.nvml.simulated or first.simulated else ""
    detail = (
        f"Driver {first.driver_version or 'n/a'}, supports CUDA up to"
        f" {first.cuda_driver_version or 'n/a'}{simulated}. {cards}."
    )
    return finding("nvidia_driver", "ok", detail)


def _card(gpu: GpuSnapshot) -> str:
    cap = gpu.compute_capability
    arch = f"sm_{cap[0]}{cap[1]}" if cap else "sm n/a"
    return f"GPU {gpu.index}: {gpu.name}, {gib(gpu.memory_total_bytes)}, {arch}"


def _stderr_lines(probe: ProbeResult, count: int = 4) -> str:
    """The telling lines of a crash's stderr: the C-level message, then the deepest frames."""
    lines = [
        line.strip()
        for line in probe.stderr_tail.splitlines()
        if line.strip() and "probe_script.py" not in line and "most recent call" not in line
    ]
    return " | ".join(lines[:count])


def _torch_crash(ctx: DoctorContext, probe: ProbeResult) -> Finding:
    text = probe.text()
    double_free = "double free" in text
    during_cuda = "is_available" in (probe.stage or "")
    if probe.signal_name and (double_free or (during_cuda and ctx.facts.is_wsl)):
        what = f"{probe.signal_name} (double free…)" if double_free else probe.signal_name
        detail = (
            f"{what} during {probe.stage or 'import torch'}: the process dies inside the CUDA"
            f" driver, before any Python error. stderr: {_stderr_lines(probe)}"
        )
        other_build = "Try a torch build for another CUDA: " + torch_install(ctx, "cu126")
        fix = (
            "1) From Windows: update the NVIDIA driver, then `wsl --shutdown`. 2) Inside WSL"
            " make sure only /usr/lib/wsl/lib provides libcuda (`ldconfig -p | grep libcuda`;"
            f" remove Linux driver packages). 3) {other_build}"
            if ctx.facts.is_wsl
            else f"1) Update the NVIDIA driver and reboot. 2) {other_build}"
        )
        return finding("torch", "fail", detail, fix, "wsl_double_free")
    detail = f"The torch probe {probe.failure()}."
    if probe.stderr_tail:
        detail += f" stderr: {_stderr_lines(probe)}"
    if probe.timed_out:
        fix = (
            "Check `nvidia-smi` (a hung driver hangs it too); end stuck GPU processes;"
            " on WSL2 run `wsl --shutdown`; otherwise reboot."
        )
    else:
        fix = "Reinstall torch cleanly: " + torch_install(ctx, _suggested_tag(ctx))
    return finding("torch", "fail", detail, fix)


def _suggested_tag(ctx: DoctorContext) -> str:
    if not ctx.gpus:
        return "cpu"
    caps = [cap for _, cap in capabilities(ctx)]
    return wheel_tag(driver_cuda(ctx), max(caps) if caps else None)


def _build_vs_driver(ctx: DoctorContext, version: str, build: str) -> Finding | None:
    driver = driver_cuda(ctx)
    if driver is None or not driver_too_old(f"{driver[0]}.{driver[1]}", build):
        return None
    detail = (
        f"torch {version} is built for CUDA {build}, but the driver supports only up to"
        f" {driver[0]}.{driver[1]}."
    )
    fix = "Update the NVIDIA driver, or install a matching build: " + torch_install(
        ctx, wheel_tag(driver)
    )
    detail += " CUDA will not initialise."
    return finding("torch", "fail", detail, fix, DRIVER_CAUSE)


@check("torch")
def torch(ctx: DoctorContext) -> Finding:
    """torch installed, importable, its CUDA build vs the driver, and CUDA actually usable."""
    dist, probe = ctx.facts.dist("torch"), ctx.probe("torch")
    if dist is None:
        fix = "Install it: " + torch_install(ctx, _suggested_tag(ctx))
        return finding("torch", "fail", "torch is not installed: nothing can train.", fix)
    if probe is None:
        return finding("torch", "warn", f"torch {dist.version} installed but was not probed.")
    if not probe.ok:
        return _torch_crash(ctx, probe)
    data = probe.data
    version, build = str(data.get("version") or dist.version), data.get("cuda")
    if data.get("hip"):
        status = "fail" if ctx.gpus else "ok"
        detail = f"torch {version} is a ROCm (AMD) build."
        return finding("torch", status, detail, torch_install(ctx, _suggested_tag(ctx)))
    if not build:
        if ctx.gpus:
            detail = f"torch {version} is a CPU-only build: the NVIDIA GPU will not be used."
            return finding("torch", "fail", detail, torch_install(ctx, _suggested_tag(ctx)))
        extra = " MPS (Apple GPU) is available." if data.get("mps") else ""
        return finding("torch", "ok", f"torch {version}, CPU build, no NVIDIA GPU.{extra}")
    mismatch = _build_vs_driver(ctx, version, str(build))
    if mismatch is not None:
        return mismatch
    return _availability(ctx, version, str(build), data)


def _availability(ctx: DoctorContext, version: str, build: str, data: Mapping[str, Any]) -> Finding:
    if data.get("cuda_available"):
        names = ", ".join(str(d.get("name")) for d in data.get("devices", []))
        detail = f"torch {version}, CUDA {build}; {data.get('device_count', 0)} GPU(s): {names}."
        return finding("torch", "ok", detail)
    if not ctx.gpus:
        detail = f"torch {version} (CUDA {build}) sees no GPU, so it will train on the CPU."
        return finding("torch", "ok", detail)
    visible = ctx.facts.env.get("CUDA_VISIBLE_DEVICES")
    detail = (
        f"torch {version} (CUDA {build}): torch.cuda.is_available() is False although the"
        f" driver lists {len(ctx.gpus)} GPU(s)."
    )
    if visible is not None:
        detail += f" CUDA_VISIBLE_DEVICES={visible!r} hides devices."
    fix = (
        "Unset or correct CUDA_VISIBLE_DEVICES; run `nvidia-smi`; if the driver is fine,"
        " reinstall torch: " + torch_install(ctx, _suggested_tag(ctx))
    )
    return finding("torch", "fail", detail, fix)


def _arch(name: str) -> tuple[str, tuple[int, int]] | None:
    """ "sm_86" -> ("sm", (8, 6)); "compute_90" -> ("compute", (9, 0)); "sm_90a" -> None."""
    match = re.fullmatch(r"(sm|compute)_(\d+)(\d)", name)
    return (match.group(1), (int(match.group(2)), int(match.group(3)))) if match else None


def arch_supported(arch_list: list[str], cap: tuple[int, int]) -> bool:
    """Runs on `cap`: a cubin of the same major and a lower-or-equal minor, or older PTX."""
    for kind, arch in filter(None, map(_arch, arch_list)):
        if kind == "sm" and arch[0] == cap[0] and arch[1] <= cap[1]:
            return True
        if kind == "compute" and arch <= cap:
            return True
    return False


@check("torch_arch")
def torch_arch(ctx: DoctorContext) -> Finding:
    """The torch build carries kernels for each GPU's compute capability (sm_120 on cu124…)."""
    probe = ctx.probe("torch")
    if probe is None or not probe.ok:
        return finding("torch_arch", "skip", "Needs a working torch (see the torch check).")
    arch_list = [str(a) for a in probe.data.get("arch_list") or []]
    gpus = capabilities(ctx)
    if not probe.data.get("cuda") or not gpus or not arch_list:
        why = "no GPU" if not gpus else "a torch without a CUDA arch list"
        return finding("torch_arch", "skip", f"Nothing to compare ({why}).")
    missing = [(label, cap) for label, cap in gpus if not arch_supported(arch_list, cap)]
    shipped = " ".join(arch_list)
    version = probe.data.get("version")
    if not missing:
        labels = ", ".join(f"{label} (sm_{c[0]}{c[1]})" for label, c in gpus)
        return finding("torch_arch", "ok", f"torch {version} has kernels for {labels}.")
    label, cap = missing[0]
    detail = (
        f"{label} is sm_{cap[0]}{cap[1]}, but torch {version} ships kernels only for {shipped}:"
        " CUDA calls fail with 'no kernel image is available for execution on the device'."
    )
    newest = max(cap for _, cap in missing)
    oldest = min(_arch(a)[1] for a in arch_list if _arch(a))  # type: ignore[index]
    tag = "cu126" if newest < oldest else wheel_tag(driver_cuda(ctx), newest)
    spec = "torch>=2.7" if newest >= (10, 0) else None
    return finding(
        "torch_arch", "fail", detail, torch_install(ctx, tag, spec), "cuda_arch_unsupported"
    )


@check("cuda_toolkit")
def cuda_toolkit(ctx: DoctorContext) -> Finding:
    """nvcc / CUDA_HOME, needed only to compile flash-attn or DeepSpeed ops from source."""
    facts = ctx.facts
    if not ctx.gpus:
        return finding("cuda_toolkit", "skip", "No NVIDIA GPU: nothing to compile CUDA for.")
    torch_cuda = _torch_cuda(ctx)
    if facts.nvcc:
        detail = f"nvcc {facts.nvcc_version or '?'} at {facts.nvcc}"
        detail += f", CUDA_HOME={facts.cuda_home}." if facts.cuda_home else "."
        nvcc, built = cuda_tuple(facts.nvcc_version), cuda_tuple(torch_cuda)
        if nvcc and built and nvcc[0] != built[0]:
            detail += (
                f" torch is built for CUDA {torch_cuda}: building extensions fails with 'The"
                " detected CUDA version mismatches the version that was used to compile PyTorch'."
            )
            fix = (
                f"Install CUDA toolkit {torch_cuda} and"
                f" export CUDA_HOME=/usr/local/cuda-{torch_cuda}"
            )
            return finding("cuda_toolkit", "warn", detail, fix)
        return finding("cuda_toolkit", "ok", detail)
    wanted = torch_cuda or "12.8"
    fix = (
        f"Only if you build from source: install CUDA toolkit {wanted} (conda: `conda install -c"
        f" nvidia cuda-toolkit={wanted}`; Ubuntu: NVIDIA's cuda-toolkit-{wanted.replace('.', '-')}"
        f" package) and export CUDA_HOME=/usr/local/cuda-{wanted}."
    )
    detail = "No nvcc and no CUDA_HOME. Prebuilt wheels do not need them"
    if facts.has("deepspeed"):
        detail += "; DeepSpeed compiles its ops at run time and will fail."
        return finding("cuda_toolkit", "warn", detail, fix, "flash_attn_build_no_cuda_home")
    detail += "; compiling flash-attn or DeepSpeed ops from source does."
    return finding("cuda_toolkit", "ok", detail, fix)


def _torch_cuda(ctx: DoctorContext) -> str | None:
    probe = ctx.probe("torch")
    if probe is not None and probe.data.get("cuda"):
        return str(probe.data["cuda"])
    dist = ctx.facts.dist("torch")
    return cuda_from_tag(cuda_wheel_tag(dist.version if dist else None))


@check("nccl")
def nccl(ctx: DoctorContext) -> Finding:
    """NCCL for multi-GPU (none on Windows) and /dev/shm, which NCCL and DataLoader use."""
    facts, count = ctx.facts, len(ctx.gpus)
    if facts.platform == "darwin":
        return finding("nccl", "skip", "macOS: no NCCL and no multi-GPU CUDA.")
    if facts.windows:
        detail = "NCCL does not exist on Windows (no nvidia-nccl wheels); only gloo."
        if count > 1:
            fix = "Use WSL2 for multi-GPU runs; on Windows train on one GPU."
            return finding("nccl", "warn", detail, fix, "nccl_missing_windows")
        detail += " With one GPU that does not matter; drop nvidia-nccl-* from requirements."
        return finding("nccl", "ok", detail)
    shm = facts.shm_total_bytes
    if shm is not None and shm < 1024**3:
        detail = (
            f"/dev/shm is only {gib(shm)}: NCCL and DataLoader workers exchange data there"
            " (Docker's default is 64 MB) and die with 'Bus error' or 'NCCL error: unhandled"
            " system error'."
        )
        fix = "Start the container with `--shm-size=16g` (or `--ipc=host`)."
        return finding("nccl", "warn", detail, fix, "nccl_shm_exhausted")
    if count == 0:
        return finding("nccl", "ok", f"No GPU, so no NCCL needed; /dev/shm {gib(shm)}.")
    probe = ctx.probe("torch")
    has_nccl = bool(probe and probe.ok and probe.data.get("nccl"))
    if count > 1 and not has_nccl:
        detail = f"{count} GPUs but torch reports no NCCL: multi-GPU runs cannot start."
        return finding("nccl", "fail", detail, torch_install(ctx, _suggested_tag(ctx)))
    state = "available" if has_nccl else "not available (fine for one GPU)"
    return finding("nccl", "ok", f"NCCL {state}; /dev/shm {gib(shm)}; {count} GPU(s).")
