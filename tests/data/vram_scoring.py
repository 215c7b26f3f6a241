"""Scoring the VRAM estimate against the reference measurements: errors, fitting, LOSO.

`errors` compares each measured reference with the estimate on the shipped stack;
`fit` refits the fitted constants (`cockpit.vram.constants.FITTED`) on a set of references
by least squares on log(estimate / measured); `leave_one_source_out` fits without each
source in turn and scores that source with the constants fitted on the others. The band
of `cockpit.vram.constants.BANDS` is read off these out-of-sample errors.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Values = dict[str, float]
Scorer = Callable[[object, Values | None], float]
"""(reference, fitted values or None for the shipped ones) -> the comparable estimate, GiB."""


@dataclass(frozen=True)
class Param:
    """One fitted constant: its name, the value before any fitting, and the values tried."""

    name: str
    prior: float
    grid: tuple[float, ...]
    on: Callable[[object], bool] = lambda ref: True
    """The references that identify it (it is fitted on these only)."""


def grid(low: float, high: float, step: float) -> tuple[float, ...]:
    count = round((high - low) / step)
    return tuple(round(low + i * step, 6) for i in range(count + 1))


def error(ref, scorer: Scorer, values: Values | None = None) -> float:
    """estimate / measured - 1 (positive: the estimate is above the measurement)."""
    return scorer(ref, values) / ref.measured_gib - 1


def _loss(refs: Sequence, scorer: Scorer, values: Values) -> float:
    return sum(math.log(scorer(r, values) / r.measured_gib) ** 2 for r in refs)


def fit(refs: Sequence, params: Sequence[Param], scorer: Scorer, rounds: int = 2) -> Values:
    """Each parameter in turn, on the references that identify it (`Param.on`), by a search
    over its grid (least squares on log(estimate / measured)), starting from the priors.

    A parameter none of `refs` identifies keeps its prior.
    """
    values = {p.name: p.prior for p in params}
    for _ in range(rounds):
        for p in params:
            points = [r for r in refs if p.on(r)]
            if points:
                losses = {c: _loss(points, scorer, values | {p.name: c}) for c in p.grid}
                flat = max(losses.values()) - min(losses.values()) < 1e-12
                best = min(p.grid, key=lambda c: (losses[c], abs(c - p.prior)))
                values = values | {p.name: p.prior if flat else best}
    return values


def leave_one_source_out(
    refs: Sequence, params: Sequence[Param], scorer: Scorer, source: Callable[[object], str]
) -> dict[str, float]:
    """Reference id -> its error with the constants fitted on the other sources only."""
    out: dict[str, float] = {}
    for held in sorted({source(r) for r in refs}):
        train = [r for r in refs if source(r) != held]
        values = fit(train, params, scorer)
        for ref in refs:
            if source(ref) == held:
                out[ref.id] = error(ref, scorer, values)
    return out


def median_abs(errors: Iterable[float]) -> float:
    values = [abs(e) for e in errors]
    return statistics.median(values) if values else float("nan")


def table(
    refs: Sequence, group: Callable[[object], str], in_sample: dict[str, float], loso: dict
) -> list[str]:
    """One line per group: points, in-sample and out-of-sample median |error|, worst."""
    lines = []
    for name in sorted({group(r) for r in refs}):
        ids = [r.id for r in refs if group(r) == name]
        ins = [in_sample[i] for i in ids]
        out = [loso[i] for i in ids]
        lines.append(
            f"{name:<22} n={len(ids):>2}  in-sample median {median_abs(ins):6.1%}  "
            f"leave-one-source-out median {median_abs(out):6.1%}  "
            f"(out-of-sample range {min(out):+.1%} .. {max(out):+.1%})"
        )
    return lines


def _load(ref) -> bool:
    return ref.kind == "load"


def _peak(backend: str) -> Callable[[object], bool]:
    def on(ref) -> bool:
        return ref.kind != "load" and _backend(ref) == backend

    return on


def _backend(ref) -> str:
    from cockpit.vram.estimate import estimate

    return estimate(ref.profile, None, stack=ref.stack, suggest=False).backend


PARAMS = (
    Param("allocator_fraction", 0.0, grid(0.0, 0.2, 0.01), _load),
    Param("allocator_fixed_gib", 0.0, grid(0.0, 1.0, 0.05), _load),
    Param("recompute_peft", 1.5, grid(1.0, 3.0, 0.05), _peak("peft")),
    Param("recompute_unsloth", 1.5, grid(1.0, 3.0, 0.05), _peak("unsloth")),
)
"""The fields of `cockpit.vram.constants.Fitted`, in fitting order: the allocator on the
loads (nothing else is unknown there), then each backend's recompute factor on its peaks.
Priors, kept where no reference identifies a constant: no allocator slack; a recomputed
layer holds its saved activations and the gradients of about half of them (1.5)."""


def shipped_scorer(ref, values: Values | None) -> float:
    """The estimate on the stack the app picks for the reference's versions."""
    from cockpit.vram.constants import Fitted
    from tests.data.vram_references import estimated_gib

    return estimated_gib(ref, None if values is None else Fitted(**values))


def group(ref) -> str:
    """The kind of run, as the band groups it: "QLoRA · Unsloth"."""
    from cockpit.vram.analytic import kind_of
    from cockpit.vram.plan import make_plan
    from cockpit.vram.resolve import resolve_model

    plan = make_plan(ref.profile, resolve_model(ref.profile.model.name_or_path).spec, ref.stack)
    method, backend, quant = kind_of(plan)
    name = (
        {"4bit": "QLoRA", "8bit": "LoRA 8-bit"}.get(quant, "LoRA") if method == "lora" else "full"
    )
    return f"{name} · {'Unsloth' if backend == 'unsloth' else 'HF/PEFT'}"


def bands(refs: Sequence, loso: dict[str, float], kind: Callable[[object], tuple]) -> dict:
    """Kind -> (low, high, points): the measurement ranges over estimate x [low, high],
    read off the out-of-sample errors e (measured = estimate / (1 + e)), at least ±5 %."""
    from cockpit.vram.constants import MIN_HALF_WIDTH

    out: dict[tuple, tuple[float, float, int]] = {}
    for k in sorted({kind(r) for r in refs}):
        errs = [loso[r.id] for r in refs if kind(r) == k]
        low = min(1 / (1 + max(errs)), 1 - MIN_HALF_WIDTH)
        high = max(1 / (1 + min(errs)), 1 + MIN_HALF_WIDTH)
        out[k] = (round(low, 2), round(high, 2), len(errs))
    return out


def kind(ref) -> tuple[str, str, str]:
    from cockpit.vram.analytic import kind_of
    from cockpit.vram.plan import make_plan
    from cockpit.vram.resolve import resolve_model

    spec = resolve_model(ref.profile.model.name_or_path).spec
    return kind_of(make_plan(ref.profile, spec, ref.stack))
