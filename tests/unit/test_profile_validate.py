"""Profile validation: every mistake a user can type comes back as one clear line, all at once."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.profiles.rules import RULES
from cockpit.profiles.validate import (
    MISSING,
    Problem,
    describe_problems,
    parse_profile,
    profile_to_raw,
)
from engines.profile_schema import SECTIONS, GrpoSection, LoraSection, table_keys


def _raw(**tables: dict[str, Any]) -> dict[str, Any]:
    """A valid profile; keyword arguments update (or add) its tables."""
    raw: dict[str, Any] = {
        "name": "t",
        "engine": "sft",
        "model": {"name_or_path": "Qwen/Qwen2.5-0.5B-Instruct"},
        "lora": {"r": 8},
        "train": {"batch_size": 2},
    }
    for name, values in tables.items():
        raw.setdefault(name, {}).update(values)
    return raw


def _only(raw: dict[str, Any]) -> Problem:
    _, problems = parse_profile(raw)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_a_valid_profile_parses_with_the_documented_defaults():
    profile, problems = parse_profile(_raw())
    assert problems == []
    assert profile is not None
    assert profile.lora == LoraSection(r=8)
    assert profile.train.batch_size == 2 and profile.train.grad_accum == 1
    assert profile.model.quantization == "none" and profile.grpo is None


def test_omitting_lora_means_a_full_fine_tune():
    raw = _raw()
    del raw["lora"]
    profile, problems = parse_profile(raw)
    assert problems == [] and profile is not None and profile.lora is None


def test_negative_size_says_what_is_allowed():
    problem = _only(_raw(train={"batch_size": -1}))
    assert str(problem) == "train.batch_size = -1: must be an integer ≥ 1"
    assert (problem.key, problem.value) == ("train.batch_size", -1)


@pytest.mark.parametrize(
    ("table", "key", "value", "allowed"),
    [
        ("train", "grad_accum", 0, "must be an integer ≥ 1"),
        ("model", "max_seq_length", 0, "must be an integer ≥ 1"),
        ("lora", "r", 0, "must be an integer ≥ 1"),
        ("train", "learning_rate", 0, "must be a number > 0"),
        ("train", "max_steps", -5, "must be an integer ≥ 0"),
        ("lora", "dropout", 1.0, "must be a number ≥ 0 and < 1"),
        ("data", "eval_fraction", -0.1, "must be a number ≥ 0 and < 1"),
        ("hardware", "gpu_memory_gib", -4, "must be a number ≥ 0"),
        ("grpo", "num_generations", 1, "must be an integer ≥ 2"),
    ],
)
def test_zero_and_negative_values_are_refused(table, key, value, allowed):
    raw = _raw(**{table: {key: value}})
    if table == "grpo":
        raw["engine"] = "grpo"
    problem = _only(raw)
    assert problem.key == f"{table}.{key}"
    assert problem.message == allowed


def test_true_is_not_an_integer():
    problem = _only(_raw(train={"batch_size": True}))
    assert str(problem) == "train.batch_size = true: must be an integer ≥ 1, not true/false"


@pytest.mark.parametrize(
    ("table", "key", "value", "expected"),
    [
        (
            "train",
            "grad_accum",
            "4",
            'train.grad_accum = "4": must be an integer ≥ 1 — write 4 without quotes',
        ),
        ("lora", "r", 8.0, "lora.r = 8.0: must be an integer ≥ 1 — write 8 (no decimal point)"),
        (
            "train",
            "packing",
            "true",
            'train.packing = "true": must be true or false — write true without quotes',
        ),
        ("data", "path", ["a.jsonl"], 'data.path = ["a.jsonl"]: must be a string in double quotes'),
        (
            "train",
            "epochs",
            "2",
            'train.epochs = "2": must be a number ≥ 0 — write 2 without quotes',
        ),
        ("hardware", "gpus", 0, 'hardware.gpus = 0: must be an integer ≥ 1 or "auto"'),
    ],
)
def test_wrong_types_name_the_type_that_is_allowed(table, key, value, expected):
    assert str(_only(_raw(**{table: {key: value}}))) == expected


def test_not_a_number_is_refused():
    problem = _only(_raw(hardware={"reserve_gib": math.nan}))
    assert problem.message == "must be a number ≥ 0"


def test_a_table_written_as_a_value_is_explained():
    raw = _raw()
    raw["model"] = "Qwen/Qwen2.5-0.5B-Instruct"
    problem = _only(raw)
    assert problem.key == "model" and "must be a table" in problem.message
    assert (
        problem.suggestion
        == 'write [model] on its own line, then name_or_path = "Qwen/Qwen2.5-0.5B-Instruct"'
    )


def test_unknown_key_gets_did_you_mean():
    problem = _only(_raw(train={"grad_acum": 4}))
    assert problem.key == "train.grad_acum"
    assert problem.suggestion == "did you mean 'grad_accum'?"
    assert "known: batch_size, grad_accum" in problem.message


def test_a_key_from_transformers_suggests_the_profile_name():
    problem = _only(_raw(train={"gradient_accumulation_steps": 4}))
    assert problem.suggestion == "did you mean 'grad_accum'?"


def test_a_key_in_the_wrong_table_names_the_right_one():
    problem = _only(_raw(model={"batch_size": 2}))
    assert str(problem).endswith("did you mean [train] batch_size?")


def test_a_top_level_key_that_belongs_in_a_table():
    raw = _raw()
    raw["learning_rate"] = 2e-4
    assert _only(raw).suggestion == "did you mean [train] learning_rate?"


def test_a_misspelled_table_gets_did_you_mean():
    raw = _raw()
    raw["trian"] = {"batch_size": 1}
    problem = _only(raw)
    assert problem.message.startswith("not a profile table")
    assert problem.suggestion == "did you mean [train]?"


@pytest.mark.parametrize(
    ("table", "key", "value", "guess"),
    [
        ("model", "quantization", "4bits", '"4bit"'),
        ("model", "quantization", "4BIT", '"4bit"'),
        ("model", "dtype", "bfloat16", '"bf16"'),
        ("model", "attn_implementation", "flash_attention", '"flash_attention_2"'),
        ("train", "optimizer", "adamw8bit", '"adamw_8bit"'),
        ("train", "gradient_checkpointing", True, '"on"'),
        ("data", "format", "alpaca", '"instruction"'),
    ],
)
def test_unknown_choice_lists_the_choices_and_guesses(table, key, value, guess):
    problem = _only(_raw(**{table: {key: value}}))
    assert problem.message.startswith("must be one of ")
    assert problem.suggestion == f"did you mean {guess}?"


def test_unknown_engine():
    raw = _raw()
    raw["engine"] = "ppo"
    problem = _only(raw)
    assert str(problem) == 'engine = "ppo": must be one of "sft", "grpo"'


def test_missing_name():
    raw = _raw()
    del raw["name"]
    problem = _only(raw)
    assert problem.value is MISSING
    assert str(problem) == 'name: required: a short label such as name = "my-profile"'


@pytest.mark.parametrize(
    "name",
    ["evil\x1b[2J\x1b]52;c;cm0=\x07", "title\x1b]0;pwned\x07", "csi\x9b31m", "a/b", "tab\there"],
)
def test_a_name_a_terminal_would_obey_is_refused_with_what_is_allowed(name: str):
    problem = _only({**_raw(), "name": name})
    assert problem.key == "name" and problem.severity == "error"
    assert "only letters, digits, spaces and - _ ." in problem.message
    assert problem.suggestion is None or "\x1b" not in problem.suggestion


@pytest.mark.parametrize("name", ["qwen2.5-0.5b grpo_v2", "Llama 3.2 3B", "中文-lora", "ÄÖ.ü"])
def test_ordinary_names_are_accepted(name: str):
    profile, problems = parse_profile({**_raw(), "name": name})
    assert problems == [] and profile is not None and profile.name == name


def test_missing_model_table():
    raw = _raw()
    del raw["model"]
    problem = _only(raw)
    assert problem.key == "model" and problem.message.startswith("required: a [model] table")


def test_missing_model_name_or_path():
    raw = _raw()
    raw["model"] = {"quantization": "none"}
    assert _only(raw).key == "model.name_or_path"


def test_every_problem_is_reported_at_once():
    raw = _raw(train={"batch_size": 0, "grad_acum": 4}, model={"dtype": "bfloat16"})
    raw["engine"] = "rl"
    profile, problems = parse_profile(raw)
    assert profile is None
    assert sorted(p.key for p in problems) == [
        "engine",
        "model.dtype",
        "train.batch_size",
        "train.grad_acum",
    ]


def test_grpo_table_with_sft_engine_is_a_warning_and_ignored():
    profile, problems = parse_profile(_raw(grpo={"num_generations": 8}))
    assert profile is not None and profile.grpo is None
    (warning,) = problems
    assert warning.severity == "warning"
    assert str(warning).startswith('warning: [grpo]: ignored: engine is "sft"')


def test_grpo_engine_without_grpo_table_uses_defaults():
    raw = _raw(train={"batch_size": 4})
    raw["engine"] = "grpo"
    profile, problems = parse_profile(raw)
    assert problems == [] and profile is not None
    assert profile.grpo == GrpoSection()


def test_grpo_batch_that_splits_a_group_is_an_error_as_trl_refuses_it():
    raw = _raw(train={"batch_size": 3, "grad_accum": 2}, grpo={"num_generations": 4})
    raw["engine"] = "grpo"
    profile, problems = parse_profile(raw)
    assert profile is None
    (problem,) = problems
    assert problem.severity == "error" and problem.key == "grpo.num_generations"
    assert "batch_size × grad_accum = 6 completions" in problem.message
    assert problem.suggestion == "set train.batch_size = 4 or grpo.num_generations = 3"


def test_grpo_batch_counts_a_fixed_number_of_gpus():
    raw = _raw(train={"batch_size": 1}, grpo={"num_generations": 2}, hardware={"gpus": 2})
    raw["engine"] = "grpo"
    assert parse_profile(raw) == (parse_profile(raw)[0], [])
    raw["hardware"]["gpus"] = 1
    assert [p.key for p in parse_profile(raw)[1]] == ["grpo.num_generations"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("all-linear", True),
        (["q_proj", "v_proj"], True),
        ([], False),
        ("q_proj", False),
        ([1], False),
    ],
)
def test_target_modules(value, ok):
    profile, problems = parse_profile(_raw(lora={"target_modules": value}))
    assert (profile is not None) is ok
    if ok:
        assert profile.lora.target_modules == (value if isinstance(value, str) else tuple(value))
    else:
        assert problems[0].key == "lora.target_modules"


@pytest.mark.parametrize(
    ("value", "ok"), [("auto", True), (2, True), ("Auto", False), (1.5, False)]
)
def test_gpus_is_a_count_or_auto(value, ok):
    profile, _ = parse_profile(_raw(hardware={"gpus": value}))
    assert (profile is not None) is ok


def test_a_quantized_full_fine_tune_is_refused():
    raw = _raw(model={"quantization": "4bit"})
    del raw["lora"]
    problem = _only(raw)
    assert problem.key == "model.quantization" and "LoRA" in problem.message


def test_zero_epochs_without_max_steps_trains_nothing():
    assert _only(_raw(train={"epochs": 0})).key == "train.epochs"
    assert parse_profile(_raw(train={"epochs": 0, "max_steps": 10}))[0] is not None


def test_reserve_must_leave_memory_to_train_with():
    problem = _only(_raw(hardware={"gpu_memory_gib": 4, "reserve_gib": 4}))
    assert problem.key == "hardware.reserve_gib"


def test_a_raw_that_is_not_a_table():
    profile, (problem,) = parse_profile(["name"])
    assert profile is None and problem.key == ""


def test_the_raw_dict_is_never_mutated():
    raw = _raw(lora={"target_modules": ["q_proj"]}, train={"epochs": 2, "batch_size": -1})
    before = copy.deepcopy(raw)
    parse_profile(raw)
    parse_profile(_raw(lora={"target_modules": ["q_proj"]}, train={"epochs": 2}))
    assert raw == before


def test_profile_to_raw_round_trips_in_file_order():
    raw = _raw(lora={"target_modules": ["q_proj", "v_proj"]}, train={"batch_size": 4})
    raw["engine"] = "grpo"
    profile, _ = parse_profile(raw)
    out = profile_to_raw(profile)
    assert list(out) == ["name", "description", "engine", *SECTIONS]
    assert list(out["train"]) == list(table_keys("train"))
    assert out["lora"]["target_modules"] == ["q_proj", "v_proj"]
    assert parse_profile(out) == (profile, [])


def test_profile_to_raw_leaves_out_lora_for_a_full_fine_tune():
    raw = _raw()
    del raw["lora"]
    out = profile_to_raw(parse_profile(raw)[0])
    assert "lora" not in out and "grpo" not in out


def test_every_key_of_the_schema_has_a_rule_in_file_order():
    for table in ("", *SECTIONS):
        assert tuple(RULES[table]) == table_keys(table)


def test_describe_problems_counts_and_lists_errors_before_warnings():
    raw = _raw(train={"batch_size": 0}, grpo={})
    problems = parse_profile(raw, source="p.toml")[1]
    text = describe_problems(problems)
    assert text.splitlines() == [
        "p.toml: 1 error, 1 warning",
        "  train.batch_size = 0: must be an integer ≥ 1",
        '  warning: [grpo]: ignored: engine is "sft" — '
        'set engine = "grpo" to use it, or delete the table',
    ]
    assert describe_problems([]) == "no problems"


# -- properties ---------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["auto", "all-linear", "4bit", "grpo", "sft", "on", "adamw"]),
    st.datetimes(),
)
_keys = st.one_of(
    st.sampled_from([*SECTIONS, *(k for t in RULES.values() for k in t), "name_or_path"]),
    st.text(max_size=8),
    st.integers(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=20,
)
_table_values = st.dictionaries(
    st.sampled_from([k for t in RULES.values() for k in t]), _values, max_size=6
)
_profiles = st.dictionaries(
    st.sampled_from([*SECTIONS, "name", "engine", "description"]),
    _table_values | _values,
    max_size=9,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_profiles, _values))
def test_arbitrary_input_never_crashes_the_parser(raw):
    before = copy.deepcopy(raw)
    profile, problems = parse_profile(raw)
    assert raw is before or raw == before  # (a bare NaN is not equal to itself)
    for problem in problems:
        assert str(problem)
    if profile is None:
        assert any(p.severity == "error" for p in problems)
    else:
        assert parse_profile(profile_to_raw(profile))[0] == profile
