"""Which card a profile is planned for, and its estimate there (the Profiles place, the CLI).

The card is the detected GPU (the largest, when there are several), a size the user
picked, or the profile's own ``[hardware] gpu_memory_gib`` when that is set (> 0): a
profile written for a 24 GB card is judged on 24 GB wherever it is opened. Everything
that can go wrong — a file that is not TOML, an invalid profile, a model the estimator
does not know — becomes an `Assessment` with a message, never an exception. No Textual.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.hardware.snapshot import GIB, MachineSnapshot, largest_gpu
from cockpit.profiles.store import LoadedProfile
from cockpit.profiles.validate import Problem
from cockpit.vram.analytic import Estimate
from cockpit.vram.estimate import estimate
from cockpit.vram.history import user_history
from cockpit.vram.specs import UnknownModel
from engines.profile_schema import Profile

PRESET_GIB: tuple[float, ...] = (4, 6, 8, 10, 12, 16, 24, 32, 40, 48, 80)
"""Card sizes offered in "plan for" besides the detected one."""


@dataclass(frozen=True)
class Card:
    """The GPU a profile is judged against."""

    gib: float | None
    """Memory in GiB; None when there is no GPU to plan for."""
    label: str
    """How the UI names it: "RTX 3050 Laptop GPU 4.0 GiB (simulated)", "a 12 GiB card"."""
    gpu_name: str | None = None
    """The detected GPU's name: the estimate on it is calibrated by the user's runs on it."""


NO_CARD = Card(None, "no GPU detected: pick a card size to plan for")


@dataclass(frozen=True)
class Assessment:
    """A profile on a card: the estimate, or why there is none."""

    verdict: str
    """ "fits", "tight", "won't fit", "no GPU", or "invalid" / "unknown model" / "unreadable"."""
    card: Card
    estimate: Estimate | None = None
    message: str = ""
    """Why there is no estimate (the file's error, the first problem, the estimator's word)."""


def detected_card(snapshot: MachineSnapshot | None) -> Card:
    """The largest GPU of the latest snapshot, or NO_CARD. On a Mac the card is the GPU's
    share of unified memory (`unified_gpu_share`), not all of the RAM."""
    gpu = largest_gpu(snapshot)
    if gpu is None:
        return NO_CARD
    gib = (gpu.plan_bytes or 0) / GIB
    if gpu.unified_memory:
        total = (gpu.memory_total_bytes or 0) / GIB
        return Card(round(gib, 2), f"{gpu.name} {gib:.1f} GiB (of {total:.0f} GiB unified)")
    simulated = " (simulated)" if gpu.simulated else ""
    name = None if gpu.simulated else gpu.name
    return Card(round(gib, 2), f"{gpu.name} {gib:.1f} GiB{simulated}", name)


def preset_card(gib: float) -> Card:
    return Card(gib, f"a {gib:g} GiB card")


def card_for(profile: Profile, planned: Card) -> Card:
    """The profile's own card size when it sets one, else the planned card."""
    own = profile.hardware.gpu_memory_gib
    if own > 0:
        return Card(own, f"{own:g} GiB, from this profile's [hardware] gpu_memory_gib")
    return planned


def assess(
    profile: Profile | None,
    problems: list[Problem],
    planned: Card,
    *,
    suggest: bool = True,
    calibrate: bool = True,
) -> Assessment:
    """The estimate of a validated profile on its card (no suggestions when ``suggest`` is off);
    on the detected GPU, calibrated by the user's past runs on it unless ``calibrate`` is off."""
    if profile is None:
        errors = [p for p in problems if p.severity == "error"]
        first = str(errors[0]) if errors else "the profile has errors"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return Assessment("invalid", planned, message=first + more)
    card = card_for(profile, planned)
    try:
        history = user_history(card.gpu_name) if calibrate else None
        result = estimate(profile, card.gib, suggest=suggest, history=history)
    except UnknownModel as exc:
        return Assessment("unknown model", card, message=str(exc))
    except Exception as exc:  # the estimator must never take the editor down
        return Assessment("error", card, message=f"the estimate failed: {exc!r}")
    reserve = profile.hardware.reserve_gib
    if reserve and card.gib:
        card = Card(card.gib, f"{card.label}, {reserve:g} GiB kept free")
    return Assessment(result.verdict, card, result)


def assess_file(loaded: LoadedProfile, planned: Card) -> Assessment:
    """A listed file's verdict (no suggestions: the list needs only the badge)."""
    if loaded.raw is None:
        return Assessment("unreadable", planned, message=loaded.error or "cannot read the file")
    return assess(loaded.profile, loaded.problems, planned, suggest=False)
