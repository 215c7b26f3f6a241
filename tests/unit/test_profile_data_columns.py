"""`[data] columns`: a role → column table, validated with a guess for a mistyped role."""

from __future__ import annotations

from cockpit.profiles.validate import parse_profile
from engines.profile_schema import profile_from_dict


def _parse(columns: object):
    raw = {"name": "p", "model": {"name_or_path": "m"}, "data": {"columns": columns}}
    return parse_profile(raw)


def test_a_mapping_of_roles_to_columns_is_accepted():
    profile, problems = _parse({"prompt": "question", "completion": "answer"})
    assert problems == [] and profile is not None
    assert profile.data.columns == {"prompt": "question", "completion": "answer"}


def test_a_mistyped_role_gets_did_you_mean():
    _, problems = _parse({"promt": "question"})
    assert len(problems) == 1 and problems[0].key == "data.columns"
    assert "unknown role 'promt'" in problems[0].message
    assert problems[0].suggestion == 'did you mean "prompt"?'


def test_a_mapping_written_backwards_is_turned_round():
    _, problems = _parse({"question": "prompt"})
    assert problems[0].suggestion == 'the role comes first: prompt = "question"'


def test_not_a_table_is_refused():
    _, problems = _parse("question")
    assert "must be a table of role" in problems[0].message


def test_the_engine_reads_the_mapping_as_text():
    raw = {"model": {"name_or_path": "m"}, "data": {"columns": {"messages": "dialog"}}}
    assert profile_from_dict(raw).data.columns == {"messages": "dialog"}
