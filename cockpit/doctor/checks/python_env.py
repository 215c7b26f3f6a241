"""Checks of the interpreter itself: which one runs, is it intact, supported, on which OS,
and can it print what libraries print."""

from __future__ import annotations

import codecs
import ntpath
import posixpath

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from cockpit.doctor.checks._base import check, finding
from cockpit.doctor.context import DoctorContext
from cockpit.doctor.facts import Distribution, Facts
from cockpit.doctor.finding import Finding

STACK = (
    "torch",
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "datasets",
    "unsloth",
    "unsloth-zoo",
    "bitsandbytes",
    "xformers",
    "torchao",
    "triton",
)


def _same_path(a: str, b: str, windows: bool) -> bool:
    mod = ntpath if windows else posixpath
    return mod.normcase(mod.normpath(a)).rstrip("\\/") == mod.normcase(mod.normpath(b)).rstrip(
        "\\/"
    )


def _inside(path: str, prefix: str, windows: bool) -> bool:
    mod = ntpath if windows else posixpath
    path, prefix = mod.normcase(mod.normpath(path)), mod.normcase(mod.normpath(prefix))
    return path == prefix or path.startswith(prefix.rstrip("\\/") + mod.sep)


def _env_label(facts: Facts) -> str:
    if facts.is_conda:
        return f"conda env {facts.conda_env or ''} at {facts.prefix}".replace("env  ", "env ")
    if facts.in_venv:
        return f"virtualenv at {facts.prefix}"
    return f"system/base Python at {facts.prefix} (no virtualenv)"


def _activate_hint(facts: Facts) -> str:
    if facts.is_conda:
        return f"conda activate {facts.conda_env or facts.prefix}"
    if facts.windows:
        return ntpath.join(facts.prefix, "Scripts", "activate")
    return f"source {posixpath.join(facts.prefix, 'bin', 'activate')}"


def _path_mismatches(facts: Facts) -> list[str]:
    """Lines naming the `python`/`pip` on PATH that belong to another environment."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, entry in sorted(facts.path_tools.items()):
        error, prefix, location = entry.get("error"), entry.get("prefix"), entry.get("location")
        if error:
            verb, rest = "fail to run", f"from {entry.get('path', '?')}: {error}"
        elif name.startswith("python") and prefix:
            if _same_path(str(prefix), facts.prefix, facts.windows):
                continue
            verb, rest = "run", f"{entry.get('executable')} ({prefix})"
        elif location and not _inside(str(location), facts.prefix, facts.windows):
            verb, rest = "install into", str(location)
        else:
            continue
        groups.setdefault((verb, rest), []).append(f"`{name}`")
    return [
        f"{' and '.join(names)} on PATH {verb if len(names) > 1 else _singular(verb)} {rest}"
        for (verb, rest), names in groups.items()
    ]


def _singular(verb: str) -> str:
    head, _, tail = verb.partition(" ")
    return f"{head}s {tail}".strip()


@check("interpreter")
def interpreter(ctx: DoctorContext) -> Finding:
    """Which interpreter is checked, and whether a bare python/pip in a shell is the same."""
    facts = ctx.facts
    detail = f"Checking {facts.executable} (Python {facts.version}), {_env_label(facts)}."
    mismatches = _path_mismatches(facts)
    fix = (
        f"Activate the environment before running anything (`{_activate_hint(facts)}`), start"
        f" scripts with its interpreter ({ctx.python} train.py) and install with"
        f" `{ctx.python} -m pip install …` rather than a bare `pip`."
    )
    if mismatches:
        detail += (
            " But " + "; ".join(mismatches) + ". A script started as `python train.py` or a bare"
            " `pip install` would use that other environment: imports fail or a run"
            " 'finishes' at once with an empty log."
        )
        return finding("interpreter", "warn", detail, fix, "wrong_python_interpreter")
    if not facts.in_venv and not facts.is_conda:
        detail += (
            " Installing a GPU stack into the base Python mixes it with system packages and"
            " other projects."
        )
        venv_fix = f"{ctx.python} -m venv ~/venvs/train && source ~/venvs/train/bin/activate"
        return finding("interpreter", "warn", detail, f"Create a dedicated env: {venv_fix}")
    return finding("interpreter", "ok", detail + " `python` and `pip` on PATH match it.")


def _duplicates(facts: Facts) -> list[str]:
    seen: dict[str, Distribution] = {}
    lines = []
    for dist in facts.distributions:
        if dist.broken:
            continue
        if dist.name in seen and seen[dist.name].path != dist.path:
            first = seen[dist.name]
            lines.append(f"{dist.name} is installed twice ({first.version} and {dist.version})")
        seen.setdefault(dist.name, dist)
    return lines


def _remove_command(path: str, windows: bool) -> str:
    return f'rmdir /s /q "{path}"' if windows else f"rm -rf '{path}'"


@check("broken_installs")
def broken_installs(ctx: DoctorContext) -> Finding:
    """Half-uninstalled packages, unreadable metadata, and packages installed twice."""
    facts = ctx.facts
    broken = [d for d in facts.distributions if d.broken]
    problems = [f"{d.name} {d.version or ''} ({d.path}): {d.broken}" for d in broken]
    problems += [f"{path}: leftover of an interrupted pip run" for path in facts.stray_entries]
    problems += _duplicates(facts)
    if not problems:
        count = len(facts.distributions)
        return finding("broken_installs", "ok", f"{count} distributions, all metadata readable.")
    paths = [d.path for d in broken if d.path] + list(facts.stray_entries)
    removes = " && ".join(_remove_command(p, facts.windows) for p in paths)
    names = sorted({d.name for d in broken} | {line.split()[0] for line in _duplicates(facts)})
    reinstall = f"{ctx.python} -m pip install --force-reinstall --no-deps " + " ".join(names)
    fix = (f"Remove the leftovers: {removes}; then reinstall: " if removes else "") + (
        reinstall if names else ""
    )
    stack_hit = any(d.name in STACK for d in broken) or any(
        line.split()[0] in STACK for line in _duplicates(facts)
    )
    detail = "pip would warn 'Ignoring invalid distribution'. " + "; ".join(problems) + "."
    return finding("broken_installs", "fail" if stack_hit else "warn", detail, fix.strip("; "))


def _excluded_by(dists: list[Distribution], python: str) -> list[str]:
    lines = []
    for dist in dists:
        try:
            spec = SpecifierSet(dist.requires_python or "")
        except InvalidSpecifier:
            continue
        if dist.requires_python and not spec.contains(python, prereleases=True):
            lines.append(f"{dist.name} {dist.version} requires Python {dist.requires_python}")
    return lines


@check("python_version")
def python_version(ctx: DoctorContext) -> Finding:
    """Is this Python supported by the installed stack, and by the wheels people need?"""
    facts = ctx.facts
    installed = [d for d in (facts.dist(name) for name in STACK) if d is not None]
    excluded = _excluded_by(installed, facts.version)
    new_env = (
        "Create an env with Python 3.11 or 3.12, e.g. `uv venv --python 3.12 ~/venvs/train`"
        " or `conda create -n train python=3.11`, and reinstall the stack there."
    )
    if excluded:
        detail = f"Python {facts.version}, but " + "; ".join(excluded) + "."
        return finding("python_version", "fail", detail, new_env)
    if facts.version_tuple[:2] < (3, 10):
        detail = f"Python {facts.version}: current transformers, TRL and cockpit need >= 3.10."
        return finding("python_version", "warn", detail, new_env)
    if facts.version_tuple[:2] >= (3, 14):
        detail = (
            f"Python {facts.version} is very new: torch, bitsandbytes, xformers and flash-attn"
            " wheels often lag a new Python, so pip falls back to source builds or old versions."
        )
        return finding("python_version", "warn", detail, new_env)
    if not installed:
        detail = (
            f"Python {facts.version}: today's GPU stack supports it (3.10 to 3.13);"
            " none of that stack is installed yet."
        )
        return finding("python_version", "ok", detail)
    names = ", ".join(d.name for d in installed)
    verb = "accepts" if len(installed) == 1 else "accept"
    return finding("python_version", "ok", f"Python {facts.version} ({names} {verb} it).")


def _wsl_finding(facts: Facts) -> Finding:
    if facts.wsl_version == 1:
        detail = "WSL 1 has no GPU access at all."
        fix = f"From Windows: `wsl --set-version {facts.wsl_distro or '<distro>'} 2`."
        return finding("platform", "fail", detail, fix)
    shadows = [
        item["path"]
        for item in facts.libcuda
        if not str(item.get("real", "")).startswith("/usr/lib/wsl/")
        and "/stubs/" not in str(item.get("path", ""))
    ]
    detail = (
        f"WSL2 ({facts.wsl_distro or 'distro unknown'}, kernel {facts.os_release}). The GPU"
        " driver comes from Windows (/usr/lib/wsl/lib); per-process GPU memory is not"
        " reported; some driver/torch pairs abort with 'double free' in"
        " torch.cuda.is_available()."
    )
    if shadows:
        detail += " A Linux libcuda shadows the WSL one: " + ", ".join(shadows) + "."
        fix = (
            "Remove the Linux driver libraries inside WSL (never install a Linux NVIDIA driver"
            " there), e.g. `sudo apt remove --purge 'libnvidia-compute-*' cuda-drivers`, then"
            " `wsl --shutdown` from Windows; `ldconfig -p | grep libcuda` should list only"
            " /usr/lib/wsl/lib."
        )
        return finding("platform", "warn", detail, fix, "wsl_double_free")
    return finding("platform", "ok", detail)


@check("platform")
def platform(ctx: DoctorContext) -> Finding:
    """The OS and what it means for the GPU stack (native Windows, WSL, macOS, Linux)."""
    facts = ctx.facts
    if facts.windows:
        detail = (
            f"Native Windows ({facts.os_release} {facts.os_version}). Ray crashes (SIGSEGV),"
            " NCCL does not exist (multi-GPU falls back to gloo), flash-attn fails to build"
            " (260-character paths), DeepSpeed needs CUDA_HOME builds."
        )
        fix = (
            "Train under WSL2 with the same GPU: in an admin PowerShell `wsl --install -d"
            " Ubuntu-24.04`, then create the env inside WSL (keep it on the Linux filesystem)."
        )
        return finding("platform", "warn", detail, fix)
    if facts.is_wsl:
        return _wsl_finding(facts)
    if facts.platform == "darwin":
        detail = (
            f"macOS {facts.os_release} on {facts.machine}: no CUDA. bitsandbytes 4-bit,"
            " Unsloth, flash-attn and xformers need an NVIDIA GPU; plain transformers/PEFT"
            " run on MPS or CPU."
        )
        return finding("platform", "warn", detail, "Use a Linux or WSL2 box with an NVIDIA GPU.")
    if facts.platform.startswith("linux"):
        where = " in a container" if facts.in_container else ""
        return finding("platform", "ok", f"Linux {facts.os_release} ({facts.machine}){where}.")
    return finding("platform", "warn", f"Untested platform {facts.platform}.")


def _effective_encoding(facts: Facts) -> tuple[str, str]:
    """The encoding print() would use when output goes to a pipe or a log, and why."""
    io_env = (facts.env.get("PYTHONIOENCODING") or "").split(":", 1)[0]
    if io_env:
        return io_env, "PYTHONIOENCODING"
    if facts.env.get("PYTHONUTF8") == "1" or facts.utf8_mode:
        return "utf-8", "UTF-8 mode"
    return facts.stdout_encoding or facts.preferred_encoding or "unknown", "locale"


def _canonical(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


@check("console_encoding")
def console_encoding(ctx: DoctorContext) -> Finding:
    """Non-UTF-8 output (gbk, cp1252) makes libraries that print emoji crash."""
    facts = ctx.facts
    encoding, source = _effective_encoding(facts)
    detail = f"Output encoding {encoding} (from {source})"
    if facts.console_codepage:
        detail += f", console code page {facts.console_codepage}"
    if _canonical(encoding) == "utf-8":
        return finding("console_encoding", "ok", detail + ".")
    detail += (
        ". Printing a character it cannot encode (an emoji like ✅ in a progress message)"
        " raises UnicodeEncodeError and can end a run after its real work is done."
    )
    if facts.windows:
        fix = (
            "Turn on Python's UTF-8 mode: `setx PYTHONUTF8 1` (new terminals) or for this one"
            " `set PYTHONUTF8=1` (cmd) / `$env:PYTHONUTF8=1` (PowerShell)."
        )
    else:
        fix = "export PYTHONIOENCODING=utf-8 (and a UTF-8 locale: export LANG=C.UTF-8)"
    return finding("console_encoding", "warn", detail, fix, "console_encoding")
