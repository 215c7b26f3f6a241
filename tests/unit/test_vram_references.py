"""The estimate against published measurements, scored on the stack the app ships.

Every reference is estimated with the stack the app picks for the versions it ran on
(`stack_for`), never a stack of its own. The fitted constants are refitted here on all
references (they must come back to the shipped values) and leave-one-source-out (fit
without a source, score that source); both errors are printed per kind of run in the
terminal summary (`benchmark` lines), and the band each estimate carries must be the one
these out-of-sample errors give.
"""

from __future__ import annotations

import dataclasses
import statistics

import pytest

from cockpit.vram.constants import BANDS, FITTED, FITTED_ON, UNMEASURED, Fitted
from cockpit.vram.estimate import estimate
from cockpit.vram.plan import DEFAULT_STACK, stack_for
from tests.data import vram_scoring as scoring
from tests.data.vram_references import Reference, references

MEASURED = [r for r in references() if r.measured_gib is not None]
UNIDENTIFIED = {"recompute_peft"}
"""The HF points all peak at the loss, so no reference moves the HF recompute factor."""


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, float]]:
    """In-sample (shipped constants) and leave-one-source-out errors per reference id."""
    scorer = scoring.shipped_scorer
    return {
        "in": {r.id: scoring.error(r, scorer) for r in MEASURED},
        "out": scoring.leave_one_source_out(MEASURED, scoring.PARAMS, scorer, lambda r: r.source),
    }


@pytest.fixture
def report(request: pytest.FixtureRequest):
    """report(line): shown in the terminal summary, like the benchmarks' figures."""
    return lambda line: request.node.user_properties.append(("benchmark", line))


def test_print_in_sample_and_out_of_sample_error_per_kind(scores, report) -> None:
    for line in scoring.table(MEASURED, scoring.group, scores["in"], scores["out"]):
        report(line)
    print(f"\n{'reference':<70} {'kind':<13} {'measured':>9} {'in':>7} {'out':>7}")
    for ref in MEASURED:
        print(
            f"{ref.id:<70} {ref.kind:<13} {ref.measured_gib:>9.2f} "
            f"{scores['in'][ref.id]:>+7.1%} {scores['out'][ref.id]:>+7.1%}"
        )
    assert len(MEASURED) >= 20


def test_references_are_scored_on_the_stack_the_app_picks_for_their_versions() -> None:
    for ref in references():
        assert ref.stack == stack_for(ref.versions)
    assert stack_for({}) == DEFAULT_STACK
    assert stack_for({"trl": "1.16.0", "unsloth": "2026.8.1"}) == DEFAULT_STACK
    old = stack_for({"trl": "0.13.0", "unsloth": "2024.10"})
    assert old.kbit_fp32_upcast and old.unsloth_loss == "materialized"


def test_refitting_on_every_reference_gives_the_shipped_constants() -> None:
    refit = scoring.fit(MEASURED, scoring.PARAMS, scoring.shipped_scorer)
    assert refit == pytest.approx(dataclasses.asdict(FITTED))


def test_every_fitted_constant_lists_the_points_it_was_fitted_on() -> None:
    assert set(FITTED_ON) == {f.name for f in dataclasses.fields(Fitted)}
    assert {p.name for p in scoring.PARAMS} == set(FITTED_ON)
    shipped = dataclasses.asdict(FITTED)
    for param in scoring.PARAMS:
        points = [r for r in MEASURED if param.on(r)]
        moved = shipped | {param.name: shipped[param.name] + 0.2}
        changed = [
            r
            for r in points
            if scoring.shipped_scorer(r, moved) != scoring.shipped_scorer(r, shipped)
        ]
        assert bool(changed) == (param.name not in UNIDENTIFIED), param.name
        assert ("no reference" in FITTED_ON[param.name]) == (param.name in UNIDENTIFIED)


def test_the_band_is_read_off_the_out_of_sample_errors(scores) -> None:
    expected = scoring.bands(MEASURED, scores["out"], scoring.kind)
    shipped = {k: (b.low, b.high, b.points) for k, b in BANDS.items()}
    assert shipped == expected
    assert UNMEASURED.low == min(b.low for b in BANDS.values())
    assert UNMEASURED.high == max(b.high for b in BANDS.values())


def test_unsloth_out_of_sample_median_error_is_at_most_ten_percent(scores) -> None:
    errors = [scores["out"][r.id] for r in MEASURED if "Unsloth" in scoring.group(r)]
    assert statistics.median(abs(e) for e in errors) <= 0.10


@pytest.mark.parametrize("ref", [r for r in references() if r.card_gib], ids=lambda r: r.id)
def test_what_people_trained_on_a_card_is_not_wont_fit_there(ref: Reference) -> None:
    assert estimate(ref.profile, ref.card_gib, stack=ref.stack).verdict != "won't fit"


def test_every_reference_names_its_source_and_the_published_words() -> None:
    for ref in references():
        assert ref.source and ref.published
        assert ref.kind in ("peak_reserved", "max_context", "load", "ran_on")
