"""Gathers facts about the Python environment it runs under, for `cockpit doctor`.

cockpit runs this file as ``<python> -I facts_script.py`` under the *target* interpreter,
which may be another virtualenv that has never heard of cockpit. So it is stdlib-only,
runs on Python 3.8+, never imports the packages it describes (it reads their metadata),
and never crashes on a damaged environment: a failing section is listed under "errors".
It prints one JSON object (ASCII) on stdout. Secrets never leave it unmasked.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.machinery
import importlib.metadata
import json
import locale
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import time

SCHEMA = 1
_ENV_NAMES = frozenset(
    [
        "HF_HOME",
        "HF_HUB_CACHE",
        "HF_ENDPOINT",
        "HF_HUB_OFFLINE",
        "HF_HUB_DOWNLOAD_TIMEOUT",
        "HF_HUB_ETAG_TIMEOUT",
        "HF_HUB_ENABLE_HF_TRANSFER",
        "HF_HUB_DISABLE_XET",
        "TRANSFORMERS_CACHE",
        "TRANSFORMERS_OFFLINE",
        "PYTHONIOENCODING",
        "PYTHONUTF8",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "CC",
        "CUDA_HOME",
        "CUDA_PATH",
        "CUDA_VISIBLE_DEVICES",
        "LD_LIBRARY_PATH",
        "PYTORCH_CUDA_ALLOC_CONF",
        "WSL_DISTRO_NAME",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "VIRTUAL_ENV",
    ]
)
_SECRET_WORDS = ("TOKEN", "KEY", "SECRET", "PASSWORD")


def mask(secret: str) -> str:
    """First 4 characters, an ellipsis and the last 2; nothing at all of a short secret."""
    secret = secret.strip()
    if len(secret) < 12:
        return "\u2026"
    return secret[:4] + "\u2026" + secret[-2:]


def _interpreter() -> dict:
    release = platform.release()
    return {
        "executable": sys.executable,
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "conda_prefix": os.environ.get("CONDA_PREFIX"),
        "conda_env": os.environ.get("CONDA_DEFAULT_ENV"),
        "is_conda": os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
        "platform": sys.platform,
        "os_release": release,
        "os_version": platform.version(),
        "machine": platform.machine(),
    }


def _wsl() -> dict:
    proc_version = ""
    try:
        with open("/proc/version", encoding="utf-8", errors="replace") as handle:
            proc_version = handle.read()
    except OSError:
        pass
    text = (proc_version + " " + platform.release()).lower()
    is_wsl = sys.platform.startswith("linux") and ("microsoft" in text or "wsl" in text)
    version = None
    if is_wsl:
        version = 2 if ("wsl2" in text or "microsoft-standard" in text) else 1
    return {
        "is_wsl": is_wsl,
        "wsl_version": version,
        "wsl_distro": os.environ.get("WSL_DISTRO_NAME"),
        "in_container": _in_container(),
        "libcuda": _libcuda_copies(),
    }


def _in_container() -> bool:
    if os.path.exists("/.dockerenv") or os.path.exists("/run/.containerenv"):
        return True
    try:
        with open("/proc/1/cgroup", encoding="utf-8", errors="replace") as handle:
            cgroup = handle.read()
    except OSError:
        return False
    return any(word in cgroup for word in ("docker", "kubepods", "containerd", "lxc"))


def _libcuda_copies() -> list:
    """Every libcuda.so.1 the dynamic loader could pick up (Linux only), resolved."""
    if not sys.platform.startswith("linux"):
        return []
    patterns = (
        "/usr/lib/wsl/lib/libcuda.so*",
        "/usr/lib/x86_64-linux-gnu/libcuda.so*",
        "/usr/lib/aarch64-linux-gnu/libcuda.so*",
        "/usr/lib64/libcuda.so*",
        "/usr/local/cuda*/compat/libcuda.so*",
    )
    found = []
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            found.append({"path": path, "real": os.path.realpath(path)})
    return found


def _stray_entries() -> list:
    """Folders an interrupted pip uninstall left behind ("~orch", "~umpy-2.0.dist-info")."""
    found = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry) or "site-packages" not in entry:
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        found.extend(os.path.join(entry, name) for name in sorted(names) if name.startswith("~"))
    return found


def _top_level(dist, files) -> list:
    text = None
    with contextlib.suppress(Exception):
        text = dist.read_text("top_level.txt")
    if text:
        return sorted({line.strip() for line in text.splitlines() if line.strip()})
    names = set()
    for path in files:
        parts = str(path).replace("\\", "/").split("/")
        head = parts[0]
        if head in ("..", "") or head.endswith((".dist-info", ".data", ".egg-info")):
            continue
        if head == "__pycache__":
            continue
        if len(parts) == 1:
            if head.endswith((".py", ".so", ".pyd")):
                names.add(head.split(".")[0])
        elif parts[-1] == "__init__.py":
            names.add(head)
    return sorted(names)


def _describe(dist, suffixes) -> dict:
    location = str(getattr(dist, "_path", "") or "")
    entry = {"name": None, "version": None, "requires": [], "broken": None}
    entry.update({"path": location, "native": False, "top_level": [], "requires_python": None})
    if os.path.basename(location).startswith("~"):
        entry["broken"] = "left behind by an interrupted pip uninstall or upgrade"
    try:
        meta = dist.metadata
        name = meta["Name"] if meta is not None else None
        version = meta["Version"] if meta is not None else None
    except Exception as exc:
        entry["broken"] = f"unreadable metadata ({type(exc).__name__})"
        return entry
    entry["name"], entry["version"] = name, version
    entry["requires_python"] = meta["Requires-Python"]
    if not name or not version:
        entry["broken"] = entry["broken"] or "METADATA is missing or has no Name/Version"
        return entry
    try:
        entry["requires"] = list(dist.requires or [])
        files = list(dist.files or [])
    except Exception as exc:
        entry["broken"] = entry["broken"] or f"unreadable RECORD/requires ({exc})"
        return entry
    entry["native"] = any(str(path).endswith(suffixes) for path in files)
    entry["top_level"] = _top_level(dist, files)
    return entry


def _distributions() -> dict:
    suffixes = (*importlib.machinery.EXTENSION_SUFFIXES, ".pyd")
    dists = [_describe(dist, suffixes) for dist in importlib.metadata.distributions()]
    return {"distributions": dists, "stray_entries": _stray_entries()}


def _full_version(info) -> str:
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def _marker_env() -> dict:
    """What packaging.markers.default_environment() returns, computed with the stdlib."""
    return {
        "marker_env": {
            "implementation_name": sys.implementation.name,
            "implementation_version": _full_version(sys.implementation.version),
            "os_name": os.name,
            "platform_machine": platform.machine(),
            "platform_release": platform.release(),
            "platform_system": platform.system(),
            "platform_version": platform.version(),
            "python_full_version": platform.python_version(),
            "platform_python_implementation": platform.python_implementation(),
            "python_version": ".".join(platform.python_version_tuple()[:2]),
            "sys_platform": sys.platform,
        }
    }


def _nvcc_version(nvcc) -> str | None:
    try:
        out = subprocess.run(
            [nvcc, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"release (\d+\.\d+)", out)
    return match.group(1) if match else None


def _build_tools() -> dict:
    include = sysconfig.get_paths().get("include") or ""
    cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    nvcc = shutil.which("nvcc")
    candidates = [cuda_home] if cuda_home else []
    candidates.append("/usr/local/cuda")
    for home in candidates:
        for name in ("nvcc", "nvcc.exe"):
            path = os.path.join(home, "bin", name)
            if not nvcc and os.path.isfile(path):
                nvcc = path
    compilers = {}
    for name in ("cc", "gcc", "clang", "cl"):
        path = shutil.which(name)
        if path:
            compilers[name] = path
    cc_env = os.environ.get("CC")
    if cc_env:
        compilers["$CC"] = shutil.which(cc_env) or (cc_env if os.path.isfile(cc_env) else "")
    return {
        "include_dir": include,
        "python_h": bool(include) and os.path.isfile(os.path.join(include, "Python.h")),
        "compilers": compilers,
        "nvcc": nvcc,
        "nvcc_version": _nvcc_version(nvcc) if nvcc else None,
        "cuda_home": cuda_home,
    }


def _shebang(path) -> str | None:
    """The interpreter a pip launcher starts: a script's #! line or a Windows .exe's tail."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(4 * 1024 * 1024)
    except OSError:
        return None
    if data.startswith(b"#!"):
        lines = data.split(b"\n", 2)
        first = lines[0][2:].strip().decode("utf-8", "replace")
        if first in ("/bin/sh", "/usr/bin/env sh") and len(lines) > 1:
            match = re.match(rb"'''exec' (\"[^\"]+\"|\S+)", lines[1])
            return match.group(1).strip(b'"').decode("utf-8", "replace") if match else first
        return first
    at = data.rfind(b"#!")
    if at < 0:
        return None
    line = data[at + 2 :].split(b"\n", 1)[0].strip()
    return line.decode("utf-8", "replace").strip('"') or None


_WHOAMI = "import sys; print(sys.executable); print(sys.prefix)"


def _ask(commands) -> list:
    """Runs short commands side by side; each answer is (stdout, error-or-None)."""
    procs = []
    for argv in commands:
        try:
            procs.append(
                subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    universal_newlines=True,
                    errors="replace",
                )
            )
        except OSError as exc:
            procs.append(exc)
    answers, deadline = [], time.monotonic() + 8
    for proc in procs:
        if isinstance(proc, OSError):
            answers.append(("", f"{type(proc).__name__}: {proc}"))
            continue
        try:
            out, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err = "timed out"
        answers.append((out, None if proc.returncode == 0 else (err.strip()[-300:] or "failed")))
    return answers


def _path_tools() -> dict:
    """Which python/pip a bare `python` or `pip` in a shell would run, and their environment."""
    found = [(n, shutil.which(n)) for n in ("python", "python3", "pip", "pip3")]
    found = [(name, path) for name, path in found if path]
    commands = [
        [path, "-I", "-c", _WHOAMI] if name.startswith("python") else [path, "--version"]
        for name, path in found
    ]
    tools = {}
    for (name, path), (out, error) in zip(found, _ask(commands)):  # noqa: B905 (3.8)
        entry = {"path": path, "error": error}
        lines = out.strip().splitlines()
        if name.startswith("python") and len(lines) >= 2:
            entry.update({"executable": lines[-2], "prefix": lines[-1]})
        elif lines:
            match = re.search(r" from (.+?) \(python", lines[-1])
            entry["location"] = match.group(1) if match else None
            entry["shebang"] = _shebang(path)
        tools[name] = entry
    return {"path_tools": tools, "path": os.environ.get("PATH", "")}


def _console_codepage() -> int | None:
    if sys.platform != "win32":
        return None
    import ctypes

    return int(ctypes.windll.kernel32.GetConsoleOutputCP())


def _encodings() -> dict:
    return {
        "stdout_encoding": getattr(sys.stdout, "encoding", None),
        "preferred_encoding": locale.getpreferredencoding(False),
        "filesystem_encoding": sys.getfilesystemencoding(),
        "utf8_mode": bool(sys.flags.utf8_mode),
        "console_codepage": _console_codepage(),
    }


def _environment() -> dict:
    env = {}
    for name, value in os.environ.items():
        if name in _ENV_NAMES or name.startswith("UNSLOTH_"):
            secret = any(word in name for word in _SECRET_WORDS)
            env[name] = mask(value) if secret else value
    return {"env": env}


def _hf_home() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return os.path.expanduser(os.environ.get("HF_HOME") or os.path.join(cache, "huggingface"))


def _token() -> dict:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = os.environ.get(name, "").strip()
        if value:
            return {"token": mask(value), "token_source": name}
    path = os.environ.get("HF_TOKEN_PATH") or os.path.join(_hf_home(), "token")
    path = os.path.expanduser(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            value = handle.read().strip()
    except OSError:
        value = ""
    if value:
        return {"token": mask(value), "token_source": path}
    return {"token": None, "token_source": None}


def _disk(path) -> dict:
    probe = os.path.abspath(path)
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    usage = shutil.disk_usage(probe)
    return {"total": usage.total, "free": usage.free}


def _hf() -> dict:
    hub = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    hub = os.path.expanduser(hub) if hub else os.path.join(_hf_home(), "hub")
    facts = {"hf_home": _hf_home(), "hf_cache": hub, "hf_cache_exists": os.path.isdir(hub)}
    facts.update(_token())
    disk = _disk(hub)
    facts.update({"hf_cache_free_bytes": disk["free"], "hf_cache_total_bytes": disk["total"]})
    return facts


def _meminfo() -> tuple:
    values = {}
    with open("/proc/meminfo", encoding="ascii", errors="replace") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields and fields[0].isdigit():
                values[key] = int(fields[0]) * 1024
    return values.get("MemTotal"), values.get("MemAvailable")


def _windows_memory() -> tuple:
    import ctypes

    class _Status(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong)] + [
            (name, ctypes.c_ulonglong)
            for name in ("total", "avail", "pagetotal", "pageavail", "vtotal", "vavail", "ext")
        ]

    status = _Status()
    status.dwLength = ctypes.sizeof(_Status)
    ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))
    return int(status.total), int(status.avail)


def _memory() -> dict:
    if os.path.isfile("/proc/meminfo"):
        total, available = _meminfo()
    elif sys.platform == "win32":
        total, available = _windows_memory()
    else:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
        names = os.sysconf_names
        available = page * os.sysconf("SC_AVPHYS_PAGES") if "SC_AVPHYS_PAGES" in names else None
    facts = {"ram_total_bytes": total, "ram_available_bytes": available}
    facts.update({"shm_total_bytes": None, "shm_free_bytes": None})
    if os.path.isdir("/dev/shm"):
        usage = shutil.disk_usage("/dev/shm")
        facts.update({"shm_total_bytes": usage.total, "shm_free_bytes": usage.free})
    return facts


_SECTIONS = (
    _interpreter,
    _wsl,
    _distributions,
    _marker_env,
    _build_tools,
    _path_tools,
    _encodings,
    _environment,
    _hf,
    _memory,
)


def gather() -> dict:
    """Every section's facts in one dict; a section that fails is named under "errors"."""
    facts = {"schema": SCHEMA, "errors": []}
    for section in _SECTIONS:
        try:
            facts.update(section())
        except Exception as exc:
            facts["errors"].append(f"{section.__name__}: {type(exc).__name__}: {exc}")
    return facts


if __name__ == "__main__":
    sys.stdout.write(json.dumps(gather(), ensure_ascii=True, sort_keys=True, default=str) + "\n")
