"""Unsloth against the packages it patches: unsloth_zoo, torch and TRL, from metadata alone.

Unsloth is released with unsloth_zoo, calls torch APIs that older torch lacks, and rewrites
TRL's trainer classes from the installed TRL's source: each pair out of step fails in its own
way, after minutes of loading. What unsloth (and unsloth_zoo) declare in their Requires-Dist,
read by the facts script through importlib.metadata in the training interpreter, says which
pair is out of step without importing unsloth. Each skew carries the catalog id the failed
run's log would be explained with.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from cockpit.doctor.checks._base import cuda_wheel_tag, version
from cockpit.doctor.checks.gpu import driver_cuda, torch_install, wheel_tag
from cockpit.doctor.checks.requirements import applicable, satisfied
from cockpit.doctor.context import DoctorContext
from cockpit.doctor.facts import normalize

ZOO_CAUSE = "unsloth_zoo_version_skew"
TORCH_CAUSE = "unsloth_torch_too_old"
TRL_CAUSE = "unsloth_trl_skew"
_LOWER_BOUNDS = (">=", ">")


@dataclass(frozen=True)
class Skew:
    """One package out of step with unsloth: the catalog id, what was seen, the fix."""

    catalog_id: str
    detail: str
    fix: str
    certain: bool = True
    """False for a guess from release dates (a warning, not a failure)."""


def declared(ctx: DoctorContext, dep: str) -> SpecifierSet | None:
    """What unsloth and unsloth_zoo together require of `dep`; None when neither names it."""
    spec, named = SpecifierSet(), False
    for requirer in ("unsloth", "unsloth-zoo"):
        dist = ctx.facts.dist(requirer)
        for req in applicable(ctx.facts, dist) if dist else ():
            if normalize(req.name) == normalize(dep):
                spec &= req.specifier
                named = True
    return spec if named else None


def unsloth_skews(ctx: DoctorContext) -> list[Skew]:
    """Every pair out of step with the installed unsloth, zoo first (it breaks the import)."""
    unsloth = ctx.facts.dist("unsloth")
    if unsloth is None:
        return []
    found = [_zoo(ctx, unsloth.version or "?"), _torch(ctx), _trl(ctx)]
    return [skew for skew in found if skew is not None]


def _zoo(ctx: DoctorContext, unsloth_version: str) -> Skew | None:
    fix = (
        "Install the pair together, without touching the rest of the stack: "
        f"{ctx.python} -m pip install --upgrade --force-reinstall --no-cache-dir --no-deps"
        " unsloth unsloth_zoo"
    )
    zoo, spec = ctx.facts.dist("unsloth-zoo"), declared(ctx, "unsloth-zoo")
    needs = f"unsloth {unsloth_version} needs unsloth_zoo{spec or ''}"
    if zoo is None:
        return None if spec is None else Skew(ZOO_CAUSE, f"{needs}, which is not installed.", fix)
    installed = version(zoo.version)
    if spec is not None and installed is not None and not satisfied(spec, installed):
        return Skew(ZOO_CAUSE, f"{needs}, but {zoo.version} is installed.", fix)
    if _release(zoo.version) > _release(unsloth_version) > (0, 0):
        detail = (
            f"unsloth_zoo {zoo.version} is from a later release than unsloth {unsloth_version}:"
            " an older unsloth may import names the newer zoo no longer has."
        )
        return Skew(ZOO_CAUSE, detail, fix, certain=False)
    return None


def _release(text: str | None) -> tuple[int, int]:
    """(year, month) of a date-versioned release ("2026.10.9" -> (2026, 10)), else (0, 0)."""
    parsed = version(text)
    if parsed is None or len(parsed.release) < 2 or parsed.release[0] < 2000:
        return (0, 0)
    return parsed.release[0], parsed.release[1]


def _torch(ctx: DoctorContext) -> Skew | None:
    """torch below what unsloth (or its zoo) declares; too new is the requirements check's."""
    spec, torch = declared(ctx, "torch"), ctx.facts.dist("torch")
    installed = version(torch.version) if torch else None
    if torch is None or spec is None or installed is None or _above(spec, installed):
        return None
    detail = f"unsloth needs torch{spec}, but torch {torch.version} is installed."
    tag = cuda_wheel_tag(torch.version) or wheel_tag(driver_cuda(ctx))
    fix = "Upgrade torch to a release unsloth supports: " + torch_install(ctx, tag, f"torch{spec}")
    return Skew(TORCH_CAUSE, detail, fix)


def _trl(ctx: DoctorContext) -> Skew | None:
    spec, trl = declared(ctx, "trl"), ctx.facts.dist("trl")
    installed = version(trl.version if trl else None)
    if spec is None or trl is None or installed is None or satisfied(spec, installed):
        return None
    side = "newer" if _above(spec, installed) else "older"
    detail = (
        f"unsloth rewrites TRL's trainers for trl{spec}, but trl {trl.version} is installed"
        f" ({side}): the patched trainer/config classes miss attributes or arguments."
    )
    fix = (
        f"Install the TRL unsloth declares: {ctx.pip_install(f'trl{spec}')}, then"
        ' rm -rf unsloth_compiled_cache; or train without Unsloth: [model] backend = "peft".'
    )
    return Skew(TRL_CAUSE, detail, fix)


def _above(spec: SpecifierSet, installed: Version) -> bool:
    """True when `installed` meets every lower bound of `spec` (if it fails, it is too new)."""
    lower = SpecifierSet(",".join(str(s) for s in spec if s.operator in _LOWER_BOUNDS))
    return satisfied(lower, installed)
