"""`cockpit profiles`: every known profile with its verdict for the planned card."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from cockpit.cli.estimate import detected_gpu_gib
from cockpit.profiles.store import list_profiles, load_profile_file
from cockpit.profiles.validate import describe_problems
from cockpit.termsafe import safe
from cockpit.vram.estimate import estimate
from cockpit.vram.specs import UnknownModel


def profile_rows(gpu_gib: float | None) -> list[dict[str, Any]]:
    """One row per listed profile: name, origin, path, engine, model, verdict, total GiB.

    The card is `gpu_gib`, else the profile's own hardware.gpu_memory_gib, else the
    detected GPU (asked once). Invalid profiles and unknown models get verdict "invalid"
    with the reason instead of stopping the listing.
    """
    detected: list[float | None] = []
    rows = []
    for entry in list_profiles():
        row: dict[str, Any] = {"name": entry.name, "origin": entry.origin, "path": str(entry.path)}
        loaded = load_profile_file(entry.path)
        profile = loaded.profile
        if profile is None:
            reason = loaded.error or describe_problems(loaded.problems)
            rows.append(row | {"verdict": "invalid", "reason": reason})
            continue
        card = gpu_gib or profile.hardware.gpu_memory_gib or None
        if card is None:
            if not detected:
                detected.append(detected_gpu_gib())
            card = detected[0]
        row |= {"engine": profile.engine, "model": profile.model.name_or_path, "gpu_gib": card}
        try:
            result = estimate(profile, card, suggest=False)
        except UnknownModel as exc:
            rows.append(row | {"verdict": "invalid", "reason": str(exc)})
            continue
        rows.append(row | {"verdict": result.verdict, "total_gib": round(result.total_gib, 2)})
    return rows


def profiles_main(gpu_gib: float | None, as_json: bool, out: TextIO | None = None) -> int:
    """Print the profiles table (or JSON); exit 0, or 2 when some profile is invalid."""
    out = out or sys.stdout
    rows = profile_rows(gpu_gib)
    if as_json:
        print(json.dumps(rows, indent=2), file=out)
    else:
        width = max((len(r["name"]) for r in rows), default=4)
        for r in rows:
            total = f"{r['total_gib']:6.2f} GiB" if "total_gib" in r else " " * 10
            card = f"on {r['gpu_gib']:g} GiB" if r.get("gpu_gib") else ""
            line = f"{r['name']:<{width}}  {r['origin']:<7}  {r['verdict']:<9}  {total}  {card}"
            print(safe(line.rstrip()), file=out)
            if r["verdict"] == "invalid":
                print(safe(f"{'':<{width}}  {r['reason']}"), file=out)
    return 2 if any(r["verdict"] == "invalid" for r in rows) else 0
