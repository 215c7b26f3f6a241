"""`estimate(profile, gpu_gib)`: the VRAM estimate of a profile, with suggestions when tight.

The entry point of `cockpit.vram`: resolves the model, plans the step, runs the analytic
estimate (`cockpit.vram.analytic`) and, for a tight or failing profile, asks
`cockpit.vram.suggest` for the edits that make it fit. Pure Python, no torch.
"""

from __future__ import annotations

import dataclasses

from cockpit.vram.analytic import Estimate, estimate_plan, planned_gpu
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
) -> Estimate:
    """Estimate `profile` on a card of `gpu_gib` (None: the profile's hardware section).

    Raises ``UnknownModel`` when the model cannot be resolved. `model` skips resolving
    (the caller already has it); `suggest=False` skips the suggestions.
    """
    resolved = model or resolve_model(profile.model.name_or_path)
    plan = make_plan(profile, resolved.spec, stack)
    result = estimate_plan(plan, resolved, planned_gpu(profile, gpu_gib))
    if suggest and result.verdict in ("tight", "won't fit"):
        result = dataclasses.replace(
            result, suggestions=tuple(suggestions(profile, result, gpu_gib, stack))
        )
    return result
