"""Runs side by side: their curves (loss, eval loss, GRPO reward) against step and tokens,
and the profile keys that differ between them.

What `cockpit runs --compare A B … [--json]` prints and the Runs place's comparison (`v`
on marked runs) draws. Read from each run's events and frozen profile; a resumed run's
steps trained twice count once (the later values win).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit.runs.status import finite_number
from cockpit.runs.store import RunDir, find_run, summarize_dir
from engines.protocol import read_events

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CURVES = ("loss", "eval_loss", "reward")
"""What can be compared, in the order a chart offers them."""
MISSING = "—"
"""A key one run's profile does not have."""


@dataclass
class RunCurves:
    """One run's facts and curves: `points[curve]` is [(step, tokens or None, value)]."""

    id: str
    profile: str
    engine: str
    status: str
    points: dict[str, list[tuple[int, float | None, float]]] = field(default_factory=dict)

    def series(self, curve: str, x: str = "step") -> tuple[list[float], list[float]]:
        """(xs, ys) of one curve against "step" or "tokens" (points without tokens left out)."""
        rows = self.points.get(curve, [])
        if x == "tokens":
            rows = [r for r in rows if r[1] is not None]
        xs = [float(r[0] if x == "step" else r[1]) for r in rows]  # type: ignore[arg-type]
        return xs, [r[2] for r in rows]

    def last(self, curve: str) -> float | None:
        rows = self.points.get(curve)
        return rows[-1][2] if rows else None

    def best(self, curve: str) -> float | None:
        values = [r[2] for r in self.points.get(curve, [])]
        if not values:
            return None
        return max(values) if curve == "reward" else min(values)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "profile": self.profile,
            "engine": self.engine,
            "status": self.status,
            **{f"last_{c}": self.last(c) for c in CURVES},
            **{f"best_{c}": self.best(c) for c in CURVES},
            "curves": {
                c: [{"step": s, "tokens": t, "value": v} for s, t, v in rows]
                for c, rows in self.points.items()
            },
        }


@dataclass
class Comparison:
    runs: list[RunCurves]
    differing: dict[str, list[Any]]
    """Dotted profile key → its value in each run (in `runs` order), for keys that differ."""

    @property
    def curves(self) -> list[str]:
        """The curves at least one run has."""
        return [c for c in CURVES if any(run.points.get(c) for run in self.runs)]

    @property
    def has_tokens(self) -> bool:
        """True when every run recorded its tokens trained (older runs did not)."""
        return all(any(r[1] is not None for r in run.points.get("loss", [])) for run in self.runs)

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": [run.to_json() for run in self.runs],
            "differing_keys": self.differing,
            "x_axes": ["step", "tokens"] if self.has_tokens else ["step"],
        }


def compare_runs(run_ids: Sequence[str], root: Path | None = None) -> Comparison:
    """The runs named (ids or unique prefixes) side by side; raises RunStoreError."""
    runs = [find_run(run_id, root) for run_id in run_ids]
    profiles = [_profile(run) for run in runs]
    return Comparison([run_curves(run) for run in runs], differing_keys(profiles))


def run_curves(run: RunDir) -> RunCurves:
    summary = summarize_dir(run)
    curves = RunCurves(summary.id, summary.profile, summary.engine, summary.status)
    by_step: dict[str, dict[int, tuple[float | None, float]]] = {c: {} for c in CURVES}
    tokens_at: dict[int, float] = {}
    for event in read_events(run.events):
        step = event.get("step")
        if not isinstance(step, int) or isinstance(step, bool):
            continue
        if event.get("kind") == "step":
            tokens = finite_number(event.get("tokens"))
            if tokens is not None:
                tokens_at[step] = tokens
            for curve in ("loss", "reward"):
                value = finite_number(event.get(curve))
                if value is not None:
                    by_step[curve][step] = (tokens, value)
        elif event.get("kind") == "eval":
            value = finite_number(event.get("eval_loss"))
            if value is not None:
                by_step["eval_loss"][step] = (tokens_at.get(step), value)
    for curve, points in by_step.items():
        if points:
            curves.points[curve] = [(s, t, v) for s, (t, v) in sorted(points.items())]
    return curves


def _profile(run: RunDir) -> dict[str, Any]:
    try:
        with open(run.profile_file, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, ValueError):
        return {}


def differing_keys(profiles: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Dotted keys whose values are not the same in every profile (a missing key is `—`)."""
    flat = [dict(_flatten(profile)) for profile in profiles]
    keys = sorted({key for one in flat for key in one})
    differing = {}
    for key in keys:
        values = [one.get(key, MISSING) for one in flat]
        if any(value != values[0] for value in values[1:]):
            differing[key] = values
    return differing


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, dotted + ".")
        else:
            yield dotted, value
