"""The estimate against published measurements, with each point's error printed.

Run with `-s` to see the table. The aims (from the issue): median absolute error at most
10 % for the HF/PEFT/TRL references and for the Unsloth ones, no point off by more than
30 %, and no configuration people trained on a card reported as "won't fit" on it.
"""

from __future__ import annotations

import statistics

import pytest

from cockpit.vram.estimate import estimate
from cockpit.vram.references import Reference, estimated_gib, references

MEASURED = [r for r in references() if r.measured_gib is not None]


def _group(ref: Reference) -> str:
    backend = estimate(ref.profile, None, stack=ref.stack, suggest=False).backend
    return "Unsloth" if backend == "unsloth" else "HF/PEFT/TRL"


def _error(ref: Reference) -> float:
    return estimated_gib(ref) / ref.measured_gib - 1


def test_print_the_reference_table() -> None:
    print(f"\n{'reference':<70} {'kind':<13} {'measured':>9} {'estimate':>9} {'error':>7}")
    for ref in MEASURED:
        print(
            f"{ref.id:<70} {ref.kind:<13} {ref.measured_gib:>9.2f} "
            f"{estimated_gib(ref):>9.2f} {_error(ref):>+7.1%}"
        )
    assert len(MEASURED) >= 20


@pytest.mark.parametrize("group", ["HF/PEFT/TRL", "Unsloth"])
def test_median_error_per_stack_is_at_most_ten_percent(group: str) -> None:
    errors = [abs(_error(r)) for r in MEASURED if _group(r) == group]
    assert len(errors) >= 5
    assert statistics.median(errors) <= 0.10, errors


@pytest.mark.parametrize("ref", MEASURED, ids=lambda r: r.id)
def test_no_reference_is_off_by_more_than_thirty_percent(ref: Reference) -> None:
    assert abs(_error(ref)) <= 0.30


@pytest.mark.parametrize("ref", [r for r in references() if r.card_gib], ids=lambda r: r.id)
def test_what_people_trained_on_a_card_is_not_wont_fit_there(ref: Reference) -> None:
    assert estimate(ref.profile, ref.card_gib, stack=ref.stack).verdict != "won't fit"


def test_every_reference_names_its_source_and_the_published_words() -> None:
    for ref in references():
        assert ref.source and ref.published
        assert ref.kind in ("peak_reserved", "max_context", "load", "ran_on")
