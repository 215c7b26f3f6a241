"""Checks of cross-package breakage outside the GPU stack: numpy 2's ABI, pydantic 2's
moved BaseSettings, Ray on Windows."""

from __future__ import annotations

from cockpit.doctor.checks._base import check, finding, version
from cockpit.doctor.checks.requirements import applicable, satisfied
from cockpit.doctor.context import DoctorContext
from cockpit.doctor.facts import Facts, normalize
from cockpit.doctor.finding import Finding

_NUMPY_1_SIGN = "compiled using NumPy 1.x"


def _numpy_pins(facts: Facts, installed: str) -> list[str]:
    """Installed packages whose declared numpy range excludes the installed numpy."""
    have = version(installed)
    if have is None:
        return []
    lines = []
    for dist in facts.distributions:
        if dist.broken or dist.name == "numpy":
            continue
        for req in applicable(facts, dist):
            if normalize(req.name) == "numpy" and not satisfied(req.specifier, have):
                lines.append(f"{dist.name} {dist.version} requires numpy{req.specifier}")
    return lines


def _owner(facts: Facts, module: str) -> str:
    for dist in facts.distributions:
        if module in dist.top_level:
            return dist.name
    return module


def _abi_failures(ctx: DoctorContext) -> list[str]:
    probe, modules = ctx.probe("numpy"), []
    if probe is not None:
        modules = [str(item.get("module")) for item in probe.data.get("abi_failures") or []]
        if (
            probe.crashed
            and (probe.stage or "").startswith("import ")
            and probe.stage != ("import numpy")
        ):
            modules.append(probe.stage.split(" ", 1)[1])  # died inside that module's import
    torch = ctx.probe("torch")
    if torch is not None and _NUMPY_1_SIGN in torch.text():
        modules.append("torch")
    return modules


@check("numpy_abi")
def numpy_abi(ctx: DoctorContext) -> Finding:
    """Compiled packages built against NumPy 1.x that break (or crash) under numpy 2."""
    facts = ctx.facts
    dist = facts.dist("numpy")
    if dist is None:
        return finding("numpy_abi", "skip", "numpy is not installed.")
    modules = _abi_failures(ctx)
    pins = _numpy_pins(facts, dist.version or "")
    if modules:
        owners = sorted({_owner(facts, m) for m in modules})
        detail = (
            f"numpy {dist.version}: {', '.join(modules)} were compiled against NumPy 1.x and fail"
            " to import ('A module that was compiled using NumPy 1.x cannot be run in NumPy 2')."
        )
        fix = (
            f"Upgrade them to numpy-2 builds: {ctx.python} -m pip install -U {' '.join(owners)};"
            f" or go back to numpy 1: {ctx.pip_install('numpy<2')}"
        )
        return finding("numpy_abi", "fail", detail, fix, "numpy2_abi")
    if pins:
        detail = f"numpy {dist.version}, but " + "; ".join(pins) + "."
        owners = sorted({line.split()[0] for line in pins})
        fix = f"{ctx.python} -m pip install -U {' '.join(owners)}, or {ctx.pip_install('numpy<2')}"
        return finding("numpy_abi", "warn", detail, fix, "numpy2_abi")
    probe = ctx.probe("numpy")
    if probe is not None and not probe.ok:
        return finding("numpy_abi", "warn", f"The numpy probe {probe.failure()}.")
    skipped = list(probe.data.get("skipped") or []) if probe else []
    detail = f"numpy {dist.version}; compiled packages that use it import fine"
    detail += f" (not reached in time: {', '.join(skipped)})." if skipped else "."
    return finding("numpy_abi", "ok", detail)


@check("pydantic")
def pydantic(ctx: DoctorContext) -> Finding:
    """pydantic 2 moved BaseSettings to pydantic-settings; who still imports the old one."""
    dist = ctx.facts.dist("pydantic")
    if dist is None:
        return finding("pydantic", "skip", "pydantic is not installed.")
    probe = ctx.probe("pydantic")
    if probe is None or not probe.ok:
        why = probe.failure() if probe else "was not probed"
        return finding("pydantic", "warn", f"pydantic {dist.version}: the probe {why}.")
    data, major = probe.data, (version(dist.version).major if version(dist.version) else 0)
    v1_users = list(data.get("v1_basesettings") or [])
    undeclared = list(data.get("undeclared_settings_users") or [])
    has_settings = bool(data.get("settings_importable"))
    if major >= 2 and v1_users:
        detail = (
            f"pydantic {dist.version}, but {', '.join(v1_users)} import BaseSettings from"
            " pydantic, which moved to pydantic-settings in v2 (PydanticImportError)."
        )
        upgrade = f"{ctx.python} -m pip install -U {' '.join(v1_users)}"
        fix = f"{upgrade}, or {ctx.pip_install('pydantic<2')}"
        return finding("pydantic", "fail", detail, fix, "pydantic_settings_missing")
    if undeclared and not has_settings:
        detail = (
            f"{', '.join(undeclared)} import pydantic_settings without declaring it, and it is"
            " not installed: ModuleNotFoundError at import."
        )
        return finding(
            "pydantic",
            "fail",
            detail,
            ctx.pip_install("pydantic-settings"),
            "pydantic_settings_missing",
        )
    settings = "installed" if has_settings else "not installed (nothing here needs it)"
    return finding("pydantic", "ok", f"pydantic {dist.version}; pydantic-settings {settings}.")


@check("ray")
def ray(ctx: DoctorContext) -> Finding:
    """Ray works on Linux/WSL2; on native Windows its raylet dies with SIGSEGV."""
    dist = ctx.facts.dist("ray")
    if dist is None:
        return finding("ray", "skip", "Ray is not installed (only RL frameworks like verl use it).")
    if ctx.facts.windows:
        detail = (
            f"Ray {dist.version} on native Windows: the raylet crashes with SIGSEGV and actors"
            " die ('The actor died unexpectedly'); no setting fixes it."
        )
        fix = "Run Ray-based training under WSL2: `wsl --install -d Ubuntu-24.04`."
        return finding("ray", "fail", detail, fix, "ray_windows_segfault")
    probe = ctx.probe("ray")
    if probe is not None and not probe.ok:
        fix = ctx.pip_install("ray", extra="--force-reinstall")
        return finding("ray", "fail", f"import ray {dist.version}: {probe.failure()}.", fix)
    return finding("ray", "ok", f"Ray {dist.version} imports.")
