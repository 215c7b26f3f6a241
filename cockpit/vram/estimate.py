"""`estimate(profile, gpu_gib)`: the VRAM estimate of a profile, with suggestions when tight.

The entry point of `cockpit.vram`: resolves the model, plans the step, runs the analytic
estimate (`cockpit.vram.analytic`) and, for a tight or failing profile, asks
`cockpit.vram.suggest` for the edits that make it fit. With a `History` (the user's past
runs on this GPU, read by `cockpit.vram.history`) the correction learned from them is
applied (`cockpit.vram.calibration`). Pure Python, no torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cockpit.vram.analytic import Estimate, estimate_plan, planned_gpu
from cockpit.vram.calibration import History, calibrate
from cockpit.vram.plan import DEFAULT_STACK, Stack, make_plan
from cockpit.vram.resolve import resolve_model
from cockpit.vram.specs import ResolvedModel
from cockpit.vram.suggest import suggestions
from engines.profile_schema import Profile


def estimate(
    profile: Profile,
    gpu_gib: float | None = None,
    *,
    stack: Stack = DEFAULT_STACK,
    model: ResolvedModel | None = None,
    suggest: bool = True,
    history: History | None = None,
    lengths: Mapping[str, Any] | None = None,
) -> Estimate:
    """Estimate `profile` on a card of `gpu_gib` (None: the profile's hardware section).

    Raises ``UnknownModel`` when the model cannot be resolved. `model` skips resolving
    (the caller already has it); `suggest=False` skips the suggestions; `history` calibrates
    (the suggestions are found on the plain estimate, then corrected the same way);
    `lengths` is the Data check's `token_lengths`, for what a shorter sequence would cut.
    """
    resolved = model or resolve_model(profile.model.name_or_path)
    plan = make_plan(profile, resolved.spec, stack)
    result = estimate_plan(plan, resolved, planned_gpu(profile, gpu_gib))
    verdict = calibrate(result, profile, history).verdict if history else result.verdict
    if suggest and verdict in ("tight", "won't fit"):
        result = dataclasses.replace(
            result, suggestions=tuple(suggestions(profile, result, gpu_gib, stack, lengths))
        )
    return calibrate(result, profile, history)
