"""GRPO rewards: what a completion earns, and how a user's own reward is found."""

from __future__ import annotations

import sys

import pytest

from engines.profile_schema import GrpoSection
from engines.rewards import (
    RewardError,
    build_rewards,
    exact_match,
    extract_answer,
    format_reward,
    length_reward,
)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Think: 3+2.\n<answer>5</answer>", "5"),
        ("<answer>4</answer> no wait <answer> 6 </answer>", "6"),
        ("3 + 2 makes 5", "5"),
        ("so the total is 1,250.", "1,250"),
        ("Paris\nis the answer:\nParis", "Paris"),
        ("", ""),
    ],
)
def test_the_answer_is_the_tag_else_the_last_number_else_the_last_line(text, answer):
    assert extract_answer(text) == answer


def test_exact_match_compares_the_answer_with_the_row():
    completions = [
        "<answer>5</answer>",
        "<answer>5.0</answer>",
        "it is 1,250",
        "<answer>7</answer>",
    ]
    assert exact_match(completions, answer=["5", "5", "1250", "8"]) == [1.0, 1.0, 1.0, 0.0]


def test_exact_match_reads_chat_completions():
    completions = [[{"role": "assistant", "content": "<answer>42</answer>"}]]
    assert exact_match(completions, answer=["42"]) == [1.0]


def test_exact_match_without_an_answer_column_says_so():
    with pytest.raises(RewardError, match="'answer' column"):
        exact_match(["x"])


def test_format_rewards_a_match_of_the_profile_pattern():
    reward = format_reward(r"<answer>.*?</answer>")
    assert reward.__name__ == "format"  # TRL logs rewards/<name>/mean under this name
    assert reward(["<answer>\n3\n</answer>", "3", "<answer>"]) == [1.0, 0.0, 0.0]
    assert format_reward(r"^\d+$")(["42", "x42"]) == [1.0, 0.0]


def test_length_peaks_at_the_target_and_falls_with_distance():
    reward = length_reward(10)
    ids = [[0] * 10, [0] * 5, [0] * 15, [0] * 30, []]
    assert reward(["", "", "", "", ""], completion_ids=ids) == [1.0, 0.5, 0.5, 0.0, 0.0]
    assert reward(["abcdefghij"]) == [1.0]  # characters when token ids are not given


def test_rewards_are_built_in_profile_order():
    funcs = build_rewards(GrpoSection(rewards=("length", "exact_match", "format")))
    assert [f.__name__ for f in funcs] == ["length", "exact_match", "format"]


def test_a_user_reward_is_imported_from_the_profile_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # restored after the test
    monkeypatch.delitem(sys.modules, "my_rewards", raising=False)
    (tmp_path / "my_rewards.py").write_text(
        "def brevity(completions, **kw):\n    return [1.0 / (1 + len(c)) for c in completions]\n",
        encoding="utf-8",
    )
    (func,) = build_rewards(GrpoSection(rewards=("my_rewards:brevity",)), [tmp_path])
    assert func(["", "abc"]) == [1.0, 0.25]
    del sys.modules["my_rewards"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bleu", "unknown reward 'bleu'"),
        ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz'"),
        ("json:no_such_function", "has no function 'no_such_function'"),
    ],
)
def test_bad_reward_names_are_explained(name, message):
    with pytest.raises(RewardError, match=message):
        build_rewards(GrpoSection(rewards=(name,)))


def test_no_rewards_is_an_error():
    with pytest.raises(RewardError, match="empty"):
        build_rewards(GrpoSection(rewards=()))
