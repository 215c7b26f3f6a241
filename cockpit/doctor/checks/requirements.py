"""Declared requirements of the training stack, checked against what is installed.

Like `pip check`, but offline, for the target interpreter (markers are evaluated against
*its* marker environment, not cockpit's), limited to the packages whose pins collide in
practice, and with a pip command that resolves each clash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from cockpit.doctor.checks._base import check, cuda_wheel_tag, finding, version
from cockpit.doctor.context import DoctorContext
from cockpit.doctor.facts import Distribution, Facts, normalize
from cockpit.doctor.finding import Finding

REQUIRERS = (
    "unsloth",
    "unsloth-zoo",
    "trl",
    "peft",
    "transformers",
    "accelerate",
    "datasets",
    "bitsandbytes",
    "torchao",
    "xformers",
    "torchvision",
    "torchaudio",
)
_TORCH_FAMILY = ("torch", "torchvision", "torchaudio")


@dataclass(frozen=True)
class Conflict:
    """One requirement of an installed package that the environment does not meet."""

    requirer: str
    requirer_version: str
    requirement: Requirement
    installed: str | None
    """Installed version of the required package; None when it is missing."""

    @property
    def dep(self) -> str:
        return normalize(self.requirement.name)

    def describe(self) -> str:
        wanted = f"{self.requirement.name}{self.requirement.specifier}"
        have = f"{self.installed} is installed" if self.installed else "it is not installed"
        return f"{self.requirer} {self.requirer_version} requires {wanted}, but {have}"


def _parse(raw: str) -> Requirement | None:
    try:
        return Requirement(raw)
    except InvalidRequirement:
        return None


def _applies(req: Requirement, marker_env: dict[str, str], extras: Iterable[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**marker_env, "extra": extra}) for extra in ("", *extras))


def requested_extras(facts: Facts, names: Iterable[str]) -> dict[str, set[str]]:
    """Extras one installed package asks of another ("trl" -> "transformers[torch]")."""
    env = dict(facts.marker_env)
    wanted: dict[str, set[str]] = {}
    for name in names:
        dist = facts.dist(name)
        for req in filter(None, map(_parse, dist.requires if dist else ())):
            if req.extras and _applies(req, env, ()):
                wanted.setdefault(normalize(req.name), set()).update(req.extras)
    return wanted


def applicable(facts: Facts, dist: Distribution, extras: Iterable[str] = ()) -> list[Requirement]:
    """The requirements of `dist` that apply on the target (markers, requested extras)."""
    env = dict(facts.marker_env)
    reqs = filter(None, map(_parse, dist.requires))
    return [req for req in reqs if _applies(req, env, tuple(extras))]


def satisfied(spec: SpecifierSet, installed: Version) -> bool:
    """Prereleases count when the installed version is itself a prerelease."""
    return spec.contains(installed, prereleases=True if installed.is_prerelease else None)


def conflicts(facts: Facts, names: Iterable[str] = REQUIRERS) -> list[Conflict]:
    """Every unmet requirement of the named installed packages."""
    names = list(names)
    extras = requested_extras(facts, names)
    found: list[Conflict] = []
    for name in names:
        dist = facts.dist(name)
        if dist is None:
            continue
        for req in applicable(facts, dist, extras.get(dist.name, ())):
            dep = facts.dist(req.name)
            installed = version(dep.version) if dep else None
            if dep is None or (installed is not None and not satisfied(req.specifier, installed)):
                found.append(Conflict(dist.name, dist.version or "?", req, dep and dep.version))
    return found


def merged_spec(facts: Facts, dep: str, names: Iterable[str] = REQUIRERS) -> SpecifierSet:
    """All installed requirers' constraints on `dep` at once, for one pip command."""
    spec = SpecifierSet()
    extras = requested_extras(facts, names)
    for name in names:
        dist = facts.dist(name)
        for req in applicable(facts, dist, extras.get(name, ())) if dist else ():
            if normalize(req.name) == normalize(dep):
                spec &= req.specifier
    return spec


def _fix(ctx: DoctorContext, clashes: list[Conflict]) -> str:
    deps = sorted({c.dep for c in clashes})
    plain = [f"{d}{merged_spec(ctx.facts, d)}" for d in deps if d not in _TORCH_FAMILY]
    torch_family = [f"{d}{merged_spec(ctx.facts, d)}" for d in deps if d in _TORCH_FAMILY]
    commands = [ctx.pip_install(*plain)] if plain else []
    if torch_family:
        torch_dist = ctx.facts.dist("torch")
        tag = cuda_wheel_tag(torch_dist.version if torch_dist else None)
        index = f"--index-url https://download.pytorch.org/whl/{tag}" if tag else ""
        commands.append(ctx.pip_install(*torch_family, extra=index))
    requirers = sorted({c.requirer for c in clashes})
    return (
        " && ".join(commands) + ". If pip answers ResolutionImpossible, these pins cannot all"
        f" hold: upgrade the pinning package ({ctx.python} -m pip install -U"
        f" {' '.join(requirers)}) or install the set cockpit pins:"
        f" {ctx.pip_install('cockpit[unsloth]')}."
    )


@check("requirements")
def requirements(ctx: DoctorContext) -> Finding:
    """Installed training packages' declared requirements hold (without importing them)."""
    installed = [name for name in REQUIRERS if ctx.facts.dist(name)]
    if not installed:
        fix = ctx.pip_install("cockpit[train]")
        return finding("requirements", "skip", "No training packages installed yet.", fix)
    clashes = conflicts(ctx.facts)
    if not clashes:
        detail = f"Requirements of {', '.join(installed)} are all met."
        return finding("requirements", "ok", detail)
    detail = "; ".join(c.describe() for c in clashes) + "."
    return finding("requirements", "fail", detail, _fix(ctx, clashes), "pip_dependency_conflict")
