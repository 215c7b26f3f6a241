"""The analytic VRAM estimate of a resolved plan: its terms, its verdict and its JSON form.

Pure arithmetic over the model spec and the profile (no torch), fast enough to rerun on
every keystroke. The terms add up to what `torch.cuda.max_memory_allocated` would report
(`peak_allocated`); the allocator's cache gives `peak_reserved`, and the CUDA context
gives what nvidia-smi shows (`total`). The total carries a band (`low_gib`-`high_gib`),
the out-of-sample error measured for that kind of run (`cockpit.vram.constants.BANDS`).
The verdict compares the band with the usable memory (the card, or
`hardware.gpu_memory_gib`, minus `hardware.reserve_gib`): "fits" when the high end is
under it, "won't fit" when the low end is above it, "tight" when the band straddles it.
With no card known (no GPU detected and no size given) the verdict is "no GPU".

`cockpit.vram.suggest` estimates edited profiles with it; `cockpit.vram.estimate` is the
entry point that resolves the model and adds the suggestions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cockpit.vram.constants import Band, Kind, band_for
from cockpit.vram.grpo import reference_term, vllm_term
from cockpit.vram.lora import lora_params
from cockpit.vram.plan import Plan
from cockpit.vram.specs import ResolvedModel
from cockpit.vram.terms import (
    GIB,
    Term,
    overhead_terms,
    step_terms,
    trainable_terms,
    weight_terms,
)
from engines.profile_schema import Profile

TIGHT_FROM = 0.90
"""Share of the usable memory from which a profile is "tight" rather than "fits"."""

POINT = Band(1.0, 1 / TIGHT_FROM, 0)
"""No measured error: the old point rule (tight from 90 % of the usable memory)."""

Verdict = Literal["fits", "tight", "won't fit", "no GPU"]
VERDICTS: tuple[str, ...] = ("fits", "tight", "won't fit", "no GPU")


@dataclass(frozen=True)
class Suggestion:
    """A concrete profile edit and the estimate it leads to."""

    change: str
    """For people: "batch_size 4 → 1, grad_accum 4 → 16 (same effective batch)"."""
    edits: dict[str, Any]
    """Dotted profile keys -> new values, ready to apply to a raw profile dict."""
    total_gib: float
    verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "total_gib": round(self.total_gib, 3),
            "verdict": self.verdict,
            "edits": dict(self.edits),
        }


@dataclass(frozen=True)
class Estimate:
    """The estimate of one profile on one card."""

    model: ResolvedModel
    terms: tuple[Term, ...]
    gpu_gib: float | None
    usable_gib: float | None
    verdict: Verdict
    trainable_params: int
    tokens: int
    """Tokens in one training forward pass (batch x sequence)."""
    backend: str
    suggestions: tuple[Suggestion, ...] = ()
    notes: tuple[str, ...] = ()
    calibration: Any = None
    """The `cockpit.vram.calibration.Calibration` applied (its term is in `terms`), or None."""
    band: Band = POINT
    """The out-of-sample error range of this kind of run (`cockpit.vram.constants.BANDS`)."""

    def _sum(self, *skip: str) -> float:
        return sum(t.bytes for t in self.terms if t.name not in skip) / GIB

    @property
    def peak_allocated_gib(self) -> float:
        return self._sum("allocator", "cuda_context")

    @property
    def peak_reserved_gib(self) -> float:
        return self._sum("cuda_context")

    @property
    def total_gib(self) -> float:
        return self._sum()

    @property
    def low_gib(self) -> float:
        """The low end of the band: the total if the estimate errs high as much as measured."""
        return self.total_gib * self.band.low

    @property
    def high_gib(self) -> float:
        """The high end: the total if it errs low as much as measured; "fits" needs it."""
        return self.total_gib * self.band.high

    @property
    def fits(self) -> bool:
        """True for "fits" and "tight": the step fits in the usable memory."""
        return self.verdict in ("fits", "tight")

    def breakdown(self) -> dict[str, float]:
        """Term name -> GiB, in the order of a training step."""
        return {t.name: round(t.gib, 4) for t in self.terms}

    def to_json(self) -> dict[str, Any]:
        """The `cockpit estimate --json` object."""
        return {
            "total_gib": round(self.total_gib, 3),
            "low_gib": round(self.low_gib, 3),
            "high_gib": round(self.high_gib, 3),
            "band_points": self.band.points,
            "peak_allocated_gib": round(self.peak_allocated_gib, 3),
            "peak_reserved_gib": round(self.peak_reserved_gib, 3),
            "gpu_gib": self.gpu_gib,
            "usable_gib": None if self.usable_gib is None else round(self.usable_gib, 3),
            "fits": self.fits,
            "verdict": self.verdict,
            "breakdown": self.breakdown(),
            "suggestions": [s.to_json() for s in self.suggestions],
            "model": self.model.to_json(),
            "backend": self.backend,
            "trainable_params": self.trainable_params,
            "tokens": self.tokens,
            "notes": list(self.notes),
            "calibration": None if self.calibration is None else self.calibration.to_json(),
        }


def verdict_for(total_gib: float, usable_gib: float | None, band: Band = POINT) -> Verdict:
    """Fits when the band's high end is under the usable memory, won't fit when its low end
    is above it, tight when the band straddles it. The default band (no measured error)
    is the old point rule: fits below 90 % of the usable memory, tight up to 100 %."""
    if usable_gib is None:
        return "no GPU"
    if total_gib * band.low > usable_gib:
        return "won't fit"
    if band is POINT:
        return "tight" if total_gib >= TIGHT_FROM * usable_gib else "fits"
    return "tight" if total_gib * band.high > usable_gib else "fits"


def kind_of(plan: Plan) -> Kind:
    """(method, backend, quantization): what the band is looked up by."""
    return ("lora" if plan.profile.lora else "full", plan.backend, plan.quantization)


def planned_gpu(profile: Profile, gpu_gib: float | None) -> tuple[float | None, float | None]:
    """(card GiB, usable GiB): `gpu_gib`, else hardware.gpu_memory_gib when > 0, else none."""
    card = gpu_gib if gpu_gib else (profile.hardware.gpu_memory_gib or None)
    if card is None:
        return None, None
    return card, max(card - profile.hardware.reserve_gib, 0.0)


def estimate_plan(
    plan: Plan,
    model: ResolvedModel,
    usable: tuple[float | None, float | None],
) -> Estimate:
    """The estimate (no suggestions) of an already resolved plan."""
    lora = plan.profile.lora
    trainable = plan.spec.params if lora is None else lora_params(plan.spec, lora)
    terms = [
        *weight_terms(plan),
        *trainable_terms(plan, trainable),
        reference_term(plan),
    ]
    terms[-1:-1] = step_terms(plan, usable[1], sum(t.bytes for t in terms))
    allocated = sum(t.bytes for t in terms)
    terms += [vllm_term(plan, usable[0]), *overhead_terms(plan, allocated)]
    total = sum(t.bytes for t in terms) / GIB
    band = band_for(kind_of(plan))
    return Estimate(
        model=model,
        terms=tuple(terms),
        gpu_gib=usable[0],
        usable_gib=usable[1],
        verdict=verdict_for(total, usable[1], band),
        trainable_params=trainable,
        tokens=plan.tokens,
        backend=plan.backend,
        notes=plan.notes,
        band=band,
    )
