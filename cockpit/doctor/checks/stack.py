"""Checks of the packages layered on torch: torchao, Triton, torch.compile options,
Unsloth, bitsandbytes and the attention kernels."""

from __future__ import annotations

import re

from cockpit.doctor.checks._base import check, cuda_wheel_tag, finding, version
from cockpit.doctor.checks.gpu import capabilities, torch_install
from cockpit.doctor.checks.unsloth_versions import unsloth_skews
from cockpit.doctor.context import DoctorContext
from cockpit.doctor.finding import Finding
from cockpit.hardware.cuda import pre_ampere, sm

# torchao release -> oldest torch its Python API supports (pytorch/ao compatibility table).
_TORCHAO_MIN_TORCH = (("0.17", "2.9"), ("0.16", "2.8"), ("0.14", "2.7"), ("0.13", "2.6"))
# torch minor -> the torchao release built against it (its C++ kernels load only then).
_TORCHAO_FOR_TORCH = {
    (2, 10): "0.16.0",
    (2, 9): "0.15.0",
    (2, 8): "0.13.0",
    (2, 7): "0.12.0",
    (2, 6): "0.12.0",
    (2, 5): "0.12.0",
}
UNSLOTH_FLAGS = {
    "UNSLOTH_COMPILE_DISABLE": "turns off Unsloth's torch.compile patches (slower, sidesteps"
    " compiler errors)",
    "UNSLOTH_SKIP_TORCHVISION_CHECK": "skips Unsloth's torch/torchvision version pairing check",
    "UNSLOTH_COMPILE_DEBUG": "verbose torch.compile logs",
    "UNSLOTH_COMPILE_MAXIMUM": "max-autotune compilation (slow first steps)",
    "UNSLOTH_COMPILE_IGNORE_ERRORS": "falls back to eager code when a compile fails",
    "UNSLOTH_ENABLE_LOGGING": "extra logging",
    "UNSLOTH_RETURN_LOGITS": "forward returns logits (costs memory)",
    "UNSLOTH_FORCE_FLOAT32": "computes in float32 (GPUs with float16 trouble)",
    "UNSLOTH_SKIP_COMPILER": "no Unsloth code cockpit knows reads it; UNSLOTH_COMPILE_DISABLE=1"
    " is the flag that disables compilation",
}


def _torch_minor(ctx: DoctorContext) -> tuple[int, int] | None:
    dist = ctx.facts.dist("torch")
    parsed = version(dist.version if dist else None)
    return (parsed.major, parsed.minor) if parsed else None


def _torchao_pin(ctx: DoctorContext) -> str:
    minor = _torch_minor(ctx)
    if minor and minor >= (2, 11):
        return ctx.pip_install("torchao>=0.17")
    if minor in _TORCHAO_FOR_TORCH:
        return ctx.pip_install(f"torchao=={_TORCHAO_FOR_TORCH[minor]}")
    return "Upgrade torch to >= 2.6 (" + torch_install(ctx, _tag(ctx), "torch>=2.6") + ")."


def _tag(ctx: DoctorContext) -> str:
    dist = ctx.facts.dist("torch")
    return cuda_wheel_tag(dist.version if dist else None) or "cu128"


@check("torchao")
def torchao(ctx: DoctorContext) -> Finding:
    """torchao imports with this torch (torch.int1, its C++ kernels)."""
    dist, torch_dist = ctx.facts.dist("torchao"), ctx.facts.dist("torch")
    if dist is None:
        return finding(
            "torchao", "skip", "torchao is not installed (only quantisation/QAT use it)."
        )
    torch_v = torch_dist.version if torch_dist else "missing"
    probe = ctx.probe("torchao")
    text = probe.text() if probe else ""
    fix = _torchao_pin(ctx)
    if probe is not None and not probe.ok:
        detail = f"import torchao {dist.version} with torch {torch_v}: {probe.failure()}."
        if "int1" in text:
            detail += " torchao uses torch.int1, which torch gained in 2.6."
        return finding("torchao", "fail", detail, fix, "torch_torchao_mismatch")
    ao, torch_parsed = version(dist.version), version(torch_dist.version if torch_dist else None)
    for release, oldest in _TORCHAO_MIN_TORCH:
        if ao and torch_parsed and ao >= version(release) and torch_parsed < version(oldest):
            detail = f"torchao {dist.version} supports torch >= {oldest}; torch is {torch_v}."
            return finding("torchao", "fail", detail, fix, "torch_torchao_mismatch")
    if "Skipping import of cpp extensions" in text:
        detail = (
            f"torchao {dist.version} was built for another torch than {torch_v}: its C++"
            " kernels are skipped (slow fallbacks, some quantisation modes fail)."
        )
        return finding("torchao", "warn", detail, fix, "torch_torchao_mismatch")
    return finding("torchao", "ok", f"torchao {dist.version} imports with torch {torch_v}.")


def _apt_headers(ctx: DoctorContext) -> str:
    major_minor = ".".join(str(p) for p in ctx.facts.version_tuple[:2])
    if ctx.facts.base_prefix.startswith("/usr"):
        return f"sudo apt install -y python{major_minor}-dev"
    return (
        f"reinstall Python {major_minor} with its headers (uv, pyenv and conda Pythons ship"
        f" them; Debian/Ubuntu system Python: sudo apt install -y python{major_minor}-dev)"
    )


def _missing_toolchain(ctx: DoctorContext, triton: str, has_compiler: bool) -> Finding | None:
    facts, problems, catalog = ctx.facts, [], None
    if not has_compiler:
        problems.append("no C compiler on PATH (cc, gcc, clang): 'Failed to find C compiler'")
        catalog = "triton_no_c_compiler"
    if not facts.python_h:
        problems.append(f"no Python.h in {facts.include_dir or 'the include dir'}")
        catalog = catalog or "triton_missing_python_headers"
    if not problems:
        return None
    detail = (
        f"Triton {triton} builds a small C module the first time a kernel runs, but: "
        + "; ".join(problems)
        + "."
    )
    steps = []
    if not has_compiler:
        steps.append("sudo apt update && sudo apt install -y build-essential")
    if not facts.python_h:
        steps.append(_apt_headers(ctx))
    if not has_compiler:
        steps.append("(or point Triton at a compiler: export CC=/path/to/gcc)")
    return finding("triton_toolchain", "fail", detail, "; ".join(steps), catalog)


@check("triton_toolchain")
def triton_toolchain(ctx: DoctorContext) -> Finding:
    """Triton compiles a C launcher per kernel: it needs a C compiler and Python.h."""
    facts = ctx.facts
    dist = facts.dist("triton") or facts.dist("triton-windows")
    if dist is None:
        return finding(
            "triton_toolchain", "skip", "Triton is not installed (comes with CUDA torch)."
        )
    probe = ctx.probe("triton")
    if probe is not None and not probe.ok:
        detail = f"import triton {dist.version}: {probe.failure()}."
        return finding("triton_toolchain", "fail", detail, torch_install(ctx, _tag(ctx)))
    compilers = {name: path for name, path in facts.compilers.items() if path}
    bundled = dist.name == "triton-windows"  # ships TinyCC
    missing = _missing_toolchain(ctx, str(dist.version), bool(compilers) or bundled)
    if missing is not None:
        return missing
    used = ", ".join(f"{n} {p}" for n, p in compilers.items()) or "bundled TinyCC"
    detail = f"Triton {dist.version}; C compiler: {used}; Python.h present."
    return finding("triton_toolchain", "ok", detail)


def _unexpected_option(text: str) -> str | None:
    match = re.search(r"Unexpected optimization option ([\w.]+)", text)
    return match.group(1) if match else None


@check("inductor_options")
def inductor_options(ctx: DoctorContext) -> Finding:
    """The torch.compile options Unsloth passes exist in this torch's inductor config."""
    if not ctx.facts.has("unsloth", "unsloth-zoo"):
        return finding("inductor_options", "skip", "Unsloth is not installed.")
    probe, unsloth = ctx.probe("inductor_options"), ctx.probe("unsloth")
    if probe is None:
        return finding("inductor_options", "skip", "Needs torch (not installed).")
    if not probe.ok:
        detail = f"Could not read torch's inductor config: {probe.failure()}."
        return finding("inductor_options", "warn", detail)
    torch_v, missing = probe.data.get("version"), list(probe.data.get("missing") or [])
    option = _unexpected_option(unsloth.text()) if unsloth else None
    fix = (
        f"Install the torch version this Unsloth supports (see the requirements check), or"
        f" upgrade Unsloth: {ctx.python} -m pip install -U unsloth unsloth_zoo. Stopgap:"
        " export UNSLOTH_COMPILE_DISABLE=1."
    )
    if option:
        detail = (
            f"import unsloth fails: 'Unexpected optimization option {option}': torch {torch_v}"
            " has no such inductor option."
        )
        return finding("inductor_options", "fail", detail, fix, "torch_inductor_option_mismatch")
    if not missing:
        count = len(probe.data.get("checked") or [])
        return finding("inductor_options", "ok", f"All {count} options exist in torch {torch_v}.")
    names = ", ".join(missing)
    if unsloth is not None and unsloth.ok:
        detail = f"torch {torch_v} lacks {names}; this Unsloth imports anyway (it filters them)."
        return finding("inductor_options", "ok", detail)
    detail = f"torch {torch_v} lacks options Unsloth may pass to torch.compile: {names}."
    return finding("inductor_options", "warn", detail, fix, "torch_inductor_option_mismatch")


def _flags(ctx: DoctorContext) -> str:
    flags = {k: v for k, v in ctx.facts.env.items() if k.startswith("UNSLOTH_")}
    if not flags:
        return "No UNSLOTH_* flags set."
    parts = [
        f"{k}={v} ({UNSLOTH_FLAGS.get(k, 'unknown to cockpit')})" for k, v in sorted(flags.items())
    ]
    return "Flags: " + "; ".join(parts) + "."


def _has_gpu(ctx: DoctorContext) -> bool:
    torch_probe = ctx.probe("torch")
    return bool(ctx.gpus) or bool(torch_probe and torch_probe.data.get("cuda_available"))


@check("unsloth")
def unsloth(ctx: DoctorContext) -> Finding:
    """Unsloth installed, importable, with a GPU, and which UNSLOTH_* flags are in effect."""
    dist = ctx.facts.dist("unsloth")
    if dist is None:
        fix = f"Optional, NVIDIA GPU only: {ctx.pip_install('cockpit[unsloth]')}"
        return finding("unsloth", "skip", "Unsloth is not installed.", fix)
    probe, flags = ctx.probe("unsloth"), _flags(ctx)
    if probe is None or probe.ok:
        if not _has_gpu(ctx):
            detail = f"unsloth {dist.version} is installed but there is no GPU. {flags}"
            fix = "Use the plain transformers + PEFT engine here; run Unsloth on a GPU machine."
            return finding("unsloth", "warn", detail, fix, "unsloth_no_accelerator")
        return _skewed(ctx, "") or finding(
            "unsloth", "ok", f"unsloth {dist.version} imports. {flags}"
        )
    text = probe.text()
    detail = f"import unsloth {dist.version}: {probe.failure()}. {flags}"
    if _unexpected_option(text):
        fix = "See the inductor_options finding."
        return finding("unsloth", "fail", detail, fix, "torch_inductor_option_mismatch")
    if "Failed to find C compiler" in text:
        fix = "sudo apt update && sudo apt install -y build-essential"
        return finding("unsloth", "fail", detail, fix, "triton_no_c_compiler")
    if not _has_gpu(ctx) or re.search(r"accelerator|need a GPU|No NVIDIA GPU", text, re.I):
        fix = "Unsloth needs a GPU: use the plain transformers + PEFT engine on this machine."
        return finding("unsloth", "fail", detail, fix, "unsloth_no_accelerator")
    skewed = _skewed(ctx, detail)
    if skewed is not None:
        return skewed
    fix = (
        f"Upgrade it together with its zoo: {ctx.python} -m pip install -U unsloth unsloth_zoo,"
        f" or install the set cockpit pins: {ctx.pip_install('cockpit[unsloth]')}"
    )
    return finding("unsloth", "fail", detail, fix)


def _skewed(ctx: DoctorContext, failure: str) -> Finding | None:
    """The version skew that explains (or will cause) a failure, with its catalog id."""
    skews = sorted(unsloth_skews(ctx), key=lambda s: not s.certain)  # certain ones first
    if not skews:
        return None
    first = skews[0]
    status = "fail" if failure or any(s.certain for s in skews) else "warn"
    detail = " ".join(s.detail for s in skews) + (f" ({failure})" if failure else "")
    fix = "\n".join(dict.fromkeys(s.fix for s in skews))
    return finding("unsloth", status, detail, fix, first.catalog_id)


@check("bitsandbytes")
def bitsandbytes(ctx: DoctorContext) -> Finding:
    """bitsandbytes installed and its native library built with GPU support."""
    dist = ctx.facts.dist("bitsandbytes")
    if dist is None:
        fix = f"For 4-bit/8-bit (QLoRA) training: {ctx.pip_install('bitsandbytes>=0.45')}"
        return finding("bitsandbytes", "skip", "bitsandbytes is not installed.", fix)
    probe = ctx.probe("bitsandbytes")
    reinstall = ctx.pip_install("bitsandbytes>=0.45", extra="--force-reinstall")
    if probe is not None and not probe.ok:
        detail = f"import bitsandbytes {dist.version}: {probe.failure()}."
        return finding("bitsandbytes", "fail", detail, reinstall)
    data = probe.data if probe else {}
    if data.get("compiled_with_cuda"):
        backend = data.get("backend") or "CUDA"
        return finding("bitsandbytes", "ok", f"bitsandbytes {dist.version}, {backend} library.")
    loaded = data.get("lib_class") or "a CPU library"
    detail = f"bitsandbytes {dist.version} loaded {loaded}, without GPU support."
    if data.get("lib_error"):
        detail += f" Its error: {str(data['lib_error'])[:300]}"
    if not _has_gpu(ctx):
        return finding("bitsandbytes", "ok", detail + " Expected without a GPU.")
    detail += " 4-bit/8-bit layers and optimizers on the GPU will fail."
    if ctx.facts.env.get("BNB_CUDA_VERSION"):
        detail += f" BNB_CUDA_VERSION={ctx.facts.env['BNB_CUDA_VERSION']} overrides the library."
    return finding("bitsandbytes", "fail", detail, reinstall, "bnb_no_gpu_support")


def _kernel_problem(ctx: DoctorContext, name: str, dist_name: str) -> str | None:
    dist, probe = ctx.facts.dist(dist_name), ctx.probe(name)
    if dist is None or probe is None:
        return None
    text = probe.text()
    torch_dist = ctx.facts.dist("torch")
    torch_v = torch_dist.version if torch_dist else "no torch"
    if not probe.ok:
        if "undefined symbol" in text:
            return f"{dist_name} {dist.version} was built for another torch than {torch_v}"
        return f"import {name} {dist.version}: {probe.failure()}"
    if "can't load C++/CUDA extensions" in text or "was built for" in text:
        return f"{dist_name} {dist.version} was built for another torch/CUDA than {torch_v}"
    return None


def _flash_attn_too_new_for(ctx: DoctorContext) -> Finding | None:
    """flash-attn installed where no GPU can run it (all below sm_80): a warning, since only
    models loaded with FlashAttention 2 fail, but some libraries pick it when installed."""
    dist, cards = ctx.facts.dist("flash-attn"), capabilities(ctx)
    if dist is None or not cards or not all(pre_ampere(cap) for _, cap in cards):
        return None
    label, cap = cards[0]
    detail = (
        f"flash-attn {dist.version} is installed, but {label} is {sm(cap)}: FlashAttention 2"
        " needs compute capability 8.0 (Ampere) or newer, so a model loaded with"
        " attn_implementation='flash_attention_2' fails (pre-flight refuses such a profile)."
    )
    fix = (
        'Load models with PyTorch\'s attention: [model] attn_implementation = "sdpa"'
        " (attn_implementation='sdpa' in code); uninstalling flash-attn stops libraries from"
        f" picking it: {ctx.python} -m pip uninstall -y flash-attn"
    )
    return finding("attention_kernels", "warn", detail, fix, "flash_attn_unsupported_gpu")


@check("attention_kernels")
def attention_kernels(ctx: DoctorContext) -> Finding:
    """flash-attn / xformers import and match this torch; on Windows, sdpa instead."""
    facts = ctx.facts
    installed = [n for n in ("flash-attn", "xformers") if facts.dist(n)]
    if not installed:
        detail = "Neither flash-attn nor xformers is installed; transformers uses PyTorch SDPA."
        if facts.windows:
            detail += " On Windows keep it that way: flash-attn fails to build (long paths)."
            return finding("attention_kernels", "skip", detail, "", "flash_attn_build_long_path")
        return finding("attention_kernels", "skip", detail)
    problems = [
        p
        for p in (
            _kernel_problem(ctx, "flash_attn", "flash-attn"),
            _kernel_problem(ctx, "xformers", "xformers"),
        )
        if p
    ]
    if not problems:
        versions = ", ".join(f"{n} {facts.dist(n).version}" for n in installed)  # type: ignore[union-attr]
        return _flash_attn_too_new_for(ctx) or finding(
            "attention_kernels", "ok", f"{versions} import with this torch."
        )
    fixes = []
    if any(p.startswith("xformers") for p in problems):
        fixes.append(
            ctx.pip_install(
                "xformers",
                extra=f"--force-reinstall --index-url https://download.pytorch.org/whl/{_tag(ctx)}",
            )
        )
    if any("flash" in p for p in problems):
        fixes.append(
            f"{ctx.python} -m pip uninstall -y flash-attn && "
            + ctx.pip_install("flash-attn", extra="--no-build-isolation")
            + " (or load models with attn_implementation='sdpa')"
        )
    catalog = "xformers_version_mismatch" if any("xformers" in p for p in problems) else None
    return finding(
        "attention_kernels", "fail", "; ".join(problems) + ".", "; ".join(fixes), catalog
    )
