"""A correction learned from the user's own runs: how far the estimate was from the peak.

Each finished run on CUDA (and each `--probe` measurement) is a `Sample`: what the
estimator says for the run's profile beside what torch measured (peak allocated, and peak
reserved when recorded), with the GPU's name, the backend, the method and the
quantization. `fit` turns the samples of one GPU + backend into a `Calibration`:

- never from fewer than `MIN_RUNS` samples; the same method and quantization are preferred
  when at least `MIN_RUNS` of them exist, else every sample of that GPU and backend;
- only the newest `NEWEST` samples count, and a sample whose ratio measured / estimated is
  outside `PLAUSIBLE` (another process on the card, a profile edited mid-run) is dropped;
- the factor is the median ratio (one outlier among three or more cannot move it), clamped
  to `FACTOR_BOUNDS`; the residual is the median relative error left after the factor.

`apply` adds the correction to an estimate as its own term ("calibration", (factor − 1) ×
the estimated peak allocated), so every total, the verdict and the breakdown show it; the
suggestions' totals get the same correction. Pure: `cockpit.vram.history` reads the
samples from the run store and the probe records.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cockpit.vram.analytic import Estimate, Suggestion, verdict_for
from cockpit.vram.terms import ALLOCATOR_FRACTION, GIB, Term
from engines.profile_schema import Profile

MIN_RUNS = 2
"""Fewer samples than this give no calibration."""
NEWEST = 20
"""Only this many of the newest matching samples count: the stack changes under old runs."""
PLAUSIBLE = (0.5, 2.0)
"""A measured / estimated ratio outside this is not the estimator's error: dropped."""
FACTOR_BOUNDS = (0.85, 1.5)
"""The correction never lowers an estimate by more than 15 % nor raises it by more than 50 %
(lowering is the dangerous side: an OOM at step 1)."""
TERM = "calibration"


@dataclass(frozen=True)
class Sample:
    """One run (or probe) on a GPU: the estimate beside the measured peaks, in GiB."""

    source: str
    """"run" or "probe"."""
    id: str
    t: float
    gpu_name: str
    backend: str
    method: str
    """"full", "lora" or "qlora" (`method_of`)."""
    quantization: str
    estimated_allocated_gib: float
    estimated_reserved_gib: float
    measured_allocated_gib: float
    measured_reserved_gib: float | None = None
    versions: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def ratio(self) -> float:
        return self.measured_allocated_gib / self.estimated_allocated_gib


@dataclass(frozen=True)
class Calibration:
    """The correction for one GPU + backend, and what it rests on."""

    factor: float
    runs: int
    residual: float
    """Median |measured − corrected estimate| / measured over the samples used."""
    gpu_name: str
    backend: str
    raw_factor: float
    """The median ratio before clamping."""
    scope: str
    """"method" (same method and quantization) or "backend" (every run of GPU + backend)."""

    @property
    def clamped(self) -> bool:
        return self.factor != self.raw_factor

    def text(self) -> str:
        """For people: 'calibrated on 3 of your runs, residual 4 %', then the factor."""
        bound = " (bounded)" if self.clamped else ""
        return (
            f"calibrated on {self.runs} of your runs, residual {100 * self.residual:.0f} %: "
            f"×{self.factor:.2f}{bound} on {self.gpu_name}, {self.backend}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "factor": round(self.factor, 4),
            "raw_factor": round(self.raw_factor, 4),
            "runs": self.runs,
            "residual": round(self.residual, 4),
            "gpu_name": self.gpu_name,
            "backend": self.backend,
            "scope": self.scope,
            "text": self.text(),
        }


@dataclass(frozen=True)
class History:
    """The samples to calibrate with, and the GPU the estimate is for."""

    gpu_name: str
    samples: tuple[Sample, ...]


def method_of(profile: Profile) -> str:
    """The method: "full" without LoRA, "qlora" with LoRA on quantized weights, else "lora"."""
    if profile.lora is None:
        return "full"
    return "qlora" if profile.model.quantization != "none" else "lora"


def fit(
    samples: Sequence[Sample], gpu_name: str, backend: str, method: str, quantization: str
) -> Calibration | None:
    """The calibration for this GPU and backend, or None (fewer than `MIN_RUNS` samples)."""
    low, high = PLAUSIBLE
    pool = [
        s
        for s in samples
        if s.gpu_name == gpu_name
        and s.backend == backend
        and s.estimated_allocated_gib > 0
        and low <= s.ratio <= high
    ]
    same = [s for s in pool if s.method == method and s.quantization == quantization]
    scope, used = ("method", same) if len(same) >= MIN_RUNS else ("backend", pool)
    used = sorted(used, key=lambda s: s.t)[-NEWEST:]
    if len(used) < MIN_RUNS:
        return None
    raw = statistics.median(s.ratio for s in used)
    factor = min(max(raw, FACTOR_BOUNDS[0]), FACTOR_BOUNDS[1])
    residual = statistics.median(
        abs(s.measured_allocated_gib - factor * s.estimated_allocated_gib)
        / s.measured_allocated_gib
        for s in used
    )
    return Calibration(factor, len(used), residual, gpu_name, backend, raw, scope)


def calibrate(result: Estimate, profile: Profile, history: History | None) -> Estimate:
    """`result` with the correction learned from `history` (unchanged without one)."""
    if history is None:
        return result
    found = fit(
        history.samples,
        history.gpu_name,
        result.backend,
        method_of(profile),
        profile.model.quantization,
    )
    return result if found is None else apply(result, found)


def apply(result: Estimate, calibration: Calibration) -> Estimate:
    """The estimate with a "calibration" term, its verdict and suggestions re-judged."""
    allocated = result.peak_allocated_gib
    delta = (calibration.factor - 1.0) * allocated * GIB
    label = f"correction from {calibration.runs} of your runs (×{calibration.factor:.2f})"
    terms = list(result.terms)
    at = next((i for i, t in enumerate(terms) if t.name == "allocator"), len(terms))
    terms.insert(at, Term(TERM, label, delta, calibration.text()))
    fixed = result.total_gib - (1 + ALLOCATOR_FRACTION) * allocated
    changed = dataclasses.replace(
        result,
        terms=tuple(terms),
        calibration=calibration,
        suggestions=tuple(
            _corrected(s, calibration.factor, fixed, result) for s in result.suggestions
        ),
    )
    verdict = verdict_for(changed.total_gib, result.usable_gib, result.band)
    return dataclasses.replace(changed, verdict=verdict)


def _corrected(suggestion: Suggestion, factor: float, fixed_gib: float, of: Estimate) -> Suggestion:
    """A suggestion's total with the same correction: its allocated part is what is left
    after the fixed overhead (CUDA context, the allocator's fixed cache) and the cache share."""
    allocated = max(suggestion.total_gib - fixed_gib, 0.0) / (1 + ALLOCATOR_FRACTION)
    total = suggestion.total_gib + (factor - 1.0) * allocated
    verdict = verdict_for(total, of.usable_gib, of.band)
    return dataclasses.replace(suggestion, total_gib=total, verdict=verdict)


def estimate_record(result: Estimate, profile: Profile) -> dict[str, Any]:
    """What run.json keeps of the estimate at launch (`estimate` key), in GiB."""
    return {
        "peak_allocated_gib": round(result.peak_allocated_gib, 6),
        "peak_reserved_gib": round(result.peak_reserved_gib, 6),
        "total_gib": round(result.total_gib, 6),
        "cuda_context_gib": round(_term_gib(result, "cuda_context"), 6),
        "backend": result.backend,
        "method": method_of(profile),
        "quantization": profile.model.quantization,
        "model": profile.model.name_or_path,
    }


def _term_gib(result: Estimate, name: str) -> float:
    return sum(t.gib for t in result.terms if t.name == name)
