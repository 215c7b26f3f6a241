"""The Profiles form's `[data] columns` field: `prompt=question, completion=answer` typed,
a table saved; a mistyped role refused with a guess (was: a plain text input whose every
typed value was a string the rule refused)."""

from __future__ import annotations

from cockpit.profiles.fields import ABSENT, FIELD_BY_KEY, from_text, to_text
from cockpit.profiles.validate import parse_profile

SPEC = FIELD_BY_KEY["data.columns"]


def _problems(columns: object) -> list[str]:
    raw = {"name": "p", "model": {"name_or_path": "m"}, "data": {"columns": columns}}
    return [str(p) for p in parse_profile(raw)[1]]


def test_typed_pairs_become_the_table_the_profile_reads():
    value = from_text(SPEC, "prompt=question, completion = answer")
    assert value == {"prompt": "question", "completion": "answer"}
    assert _problems(value) == []


def test_the_table_shows_as_the_pairs_it_was_typed_as():
    assert to_text(SPEC, {"prompt": "question", "completion": "answer"}) == (
        "prompt=question, completion=answer"
    )
    assert from_text(SPEC, "  ") is ABSENT
    assert SPEC.placeholder.startswith("e.g. prompt=question")


def test_a_mistyped_role_is_refused_with_a_guess():
    problems = _problems(from_text(SPEC, "promt=question, completion=answer"))
    assert problems and "unknown role 'promt'" in problems[0] and "prompt" in problems[0]


def test_text_that_is_not_pairs_is_kept_and_refused_with_the_form_to_use():
    value = from_text(SPEC, "question")
    assert value == "question"
    assert any('role = "column name"' in p for p in _problems(value))
