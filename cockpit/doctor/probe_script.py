"""Imports one GPU-stack package in a throwaway process, for `cockpit doctor`.

cockpit runs ``<python> -I -X faulthandler probe_script.py NAME [ARGS...]`` under the
target interpreter, one process per probe, so a segfault, an abort (WSL's libcuda
"double free") or a hang ends this process and never cockpit. Before each risky step
it prints a stage line, so a crash can be pinned on the step that caused it; the
result is one JSON line after RESULT_MARKER. Stdlib-only at module level (the package
under test is imported inside its probe) and Python 3.8-compatible.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import json
import os
import re
import sys
import time

STAGE_MARKER = "@@cockpit-stage@@"
RESULT_MARKER = "@@cockpit-probe@@"
_NUMPY_ABI_SIGNS = (
    "compiled using NumPy 1.x",
    "_ARRAY_API not found",
    "numpy.core.multiarray failed to import",
    "numpy.core._multiarray_umath failed to import",
    "numpy.dtype size changed",
    "compiled against ABI version",
    "compiled against API version",
)
_NUMPY_BUDGET_S = 8.0
_SCAN_BUDGET_S = 3.0
_SCAN_MAX_FILES = 5000


def stage(name: str) -> None:
    sys.stdout.write(STAGE_MARKER + " " + name + "\n")
    sys.stdout.flush()


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _import_quietly(module: str) -> tuple:
    """Import `module` with Python-level stderr captured; (error text or None, stderr text)."""
    saved, sys.stderr = sys.stderr, io.StringIO()
    try:
        importlib.import_module(module)
        error = None
    except (Exception, SystemExit) as exc:
        error = _text(exc)
    finally:
        captured, sys.stderr = sys.stderr.getvalue(), saved
    return error, captured[-2000:]


def _version(module) -> str | None:
    value = getattr(module, "__version__", None)
    return None if value is None else str(value)


def probe_torch(data: dict, args: list) -> None:
    stage("import torch")
    import torch

    data.update({"version": str(torch.__version__), "cuda": torch.version.cuda})
    data["hip"] = getattr(torch.version, "hip", None)
    data["has_int1"] = hasattr(torch, "int1")
    arch_flags = getattr(torch._C, "_cuda_getArchFlags", None)
    flags = arch_flags() if arch_flags is not None else None
    data["arch_list"] = flags.split() if flags else []
    stage("torch.cuda.is_available()")
    available = bool(torch.cuda.is_available())
    data["cuda_available"] = available
    data["device_count"] = torch.cuda.device_count() if available else 0
    devices = []
    for index in range(data["device_count"]):
        stage(f"torch.cuda.get_device_capability({index})")
        major, minor = torch.cuda.get_device_capability(index)
        devices.append({"name": torch.cuda.get_device_name(index), "capability": [major, minor]})
    data["devices"] = devices
    if available:
        data["arch_list"] = list(torch.cuda.get_arch_list())
    stage("torch.distributed")
    distributed = torch.distributed.is_available()
    data["distributed"] = bool(distributed)
    data["nccl"] = bool(distributed and torch.distributed.is_nccl_available())
    mps = getattr(torch.backends, "mps", None)
    data["mps"] = bool(mps is not None and mps.is_available())


def _try_import(data: dict, module: str) -> bool:
    """Import `module`, keeping its warnings; on failure record the error and say False."""
    stage("import " + module)
    error, captured = _import_quietly(module)
    data["warnings"] = (data.get("warnings") or "") + captured
    if error:
        data["error"], data["error_type"] = error, error.split(":", 1)[0]
        return False
    data.setdefault("version", _version(sys.modules[module]))
    return True


def _simple(module: str):
    def probe(data: dict, args: list) -> None:
        _try_import(data, module)

    return probe


def probe_xformers(data: dict, args: list) -> None:
    if _try_import(data, "xformers"):
        _try_import(data, "xformers.ops")


def probe_bitsandbytes(data: dict, args: list) -> None:
    if not _try_import(data, "bitsandbytes"):
        return
    cext = sys.modules.get("bitsandbytes.cextension")
    lib = getattr(cext, "lib", None)
    # Read class attributes only: the CPU library's __getattr__ raises on anything else.
    data["lib_class"] = type(lib).__name__ if lib is not None else None
    data["compiled_with_cuda"] = getattr(type(lib), "compiled_with_cuda", None)
    if data["compiled_with_cuda"] is None:
        data["compiled_with_cuda"] = getattr(cext, "COMPILED_WITH_CUDA", None)
    data["backend"] = getattr(cext, "BNB_BACKEND", None)
    data["lib_error"] = (getattr(lib, "__dict__", None) or {}).get("error_msg")


def _config_keys(config) -> set:
    for getter in ("get_config_copy", "shallow_copy_dict", "to_dict"):
        if hasattr(config, getter):
            return set(getattr(config, getter)())
    return set()


def _scan_unsloth_options() -> set:
    """Dotted inductor option names ("triton.x") written in Unsloth's own source."""
    import importlib.util

    names, pattern = set(), re.compile(r"[\"']((?:triton|cuda|trace|cpp)\.[A-Za-z_]+)[\"']\s*:")
    for package in ("unsloth", "unsloth_zoo"):
        spec = importlib.util.find_spec(package)
        for root in (spec.submodule_search_locations or []) if spec else []:
            for folder, _, files in os.walk(root):
                for name in files:
                    if name.endswith(".py"):
                        names.update(pattern.findall(_read(os.path.join(folder, name))))
    return names


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(400_000)
    except OSError:
        return ""


def probe_inductor_options(data: dict, args: list) -> None:
    stage("scan unsloth sources")
    wanted = set(args) | _scan_unsloth_options()
    stage("import torch._inductor.config")
    import torch._inductor.config as config

    keys = _config_keys(config)
    data["version"] = str(sys.modules["torch"].__version__)
    data["checked"] = sorted(wanted)
    data["missing"] = sorted(name for name in wanted if name not in keys)


def probe_numpy(data: dict, args: list) -> None:
    """numpy's version, then which compiled modules (args) fail to import against it."""
    stage("import numpy")
    import numpy

    data["version"] = str(numpy.__version__)
    deadline = time.monotonic() + _NUMPY_BUDGET_S
    abi, other, skipped = [], [], []
    for module in args:
        if time.monotonic() > deadline:
            skipped.append(module)
            continue
        stage("import " + module)
        error, captured = _import_quietly(module)
        text = (error or "") + "\n" + captured
        if any(sign in text for sign in _NUMPY_ABI_SIGNS):
            abi.append({"module": module, "error": (error or captured.strip())[-600:]})
        elif error:
            other.append({"module": module, "error": error[-600:]})
    data.update({"abi_failures": abi, "other_failures": other, "skipped": skipped})


_V1_SETTINGS = re.compile(
    r"from\s+pydantic\s+import\s+(?:\([^)]*?\bBaseSettings\b|[^\n]*\bBaseSettings\b)"
    r"|\bpydantic\.BaseSettings\b"
)
_SETTINGS_USE = re.compile(r"^\s*(?:from|import)\s+pydantic_settings\b", re.MULTILINE)


def _pydantic_users() -> list:
    users = []
    for dist in importlib.metadata.distributions():
        try:
            name = (dist.metadata["Name"] or "").lower().replace("_", "-")
            requires = [r.lower().replace("_", "-") for r in (dist.requires or [])]
            requires = [r for r in requires if "extra" not in r.partition(";")[2]]
        except Exception:  # a damaged install: the broken_installs check reports it
            continue
        if name.startswith("pydantic") or not any(re.match(r"pydantic\b", r) for r in requires):
            continue
        declares = any(r.startswith("pydantic-settings") for r in requires)
        users.append((name, declares, [f for f in (dist.files or []) if str(f).endswith(".py")]))
    return users


def probe_pydantic(data: dict, args: list) -> None:
    """pydantic's major version, and which packages still use v1's BaseSettings."""
    stage("import pydantic")
    import pydantic

    data["version"] = str(getattr(pydantic, "VERSION", _version(pydantic)))
    error, _ = _import_quietly("pydantic_settings")
    data["settings_importable"] = error is None
    stage("scan packages that use pydantic")
    deadline, seen = time.monotonic() + _SCAN_BUDGET_S, 0
    v1_users, settings_users, truncated = [], [], False
    for name, declares, files in _pydantic_users():
        for path in files:
            seen += 1
            if seen > _SCAN_MAX_FILES or time.monotonic() > deadline:
                truncated = True
                break
            text = _read(str(path.locate()))
            if name not in v1_users and _V1_SETTINGS.search(text):
                v1_users.append(name)
            if not declares and name not in settings_users and _SETTINGS_USE.search(text):
                settings_users.append(name)
    data.update({"v1_basesettings": v1_users, "undeclared_settings_users": settings_users})
    data["scan_truncated"] = truncated


PROBES = {
    "torch": probe_torch,
    "torchao": _simple("torchao"),
    "unsloth": _simple("unsloth"),
    "bitsandbytes": probe_bitsandbytes,
    "flash_attn": _simple("flash_attn"),
    "xformers": probe_xformers,
    "triton": _simple("triton"),
    "inductor_options": probe_inductor_options,
    "numpy": probe_numpy,
    "pydantic": probe_pydantic,
    "ray": _simple("ray"),
}


def main(argv: list) -> None:
    data = {}
    try:
        PROBES[argv[0]](data, argv[1:])
    except (Exception, SystemExit) as exc:
        data["error"] = _text(exc)
        data["error_type"] = type(exc).__name__
    sys.stdout.write(RESULT_MARKER + " " + json.dumps(data, ensure_ascii=True, default=str) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: some CUDA stacks crash at exit, which is not what we probe.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
