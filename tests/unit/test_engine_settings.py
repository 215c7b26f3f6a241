"""The engine reads profiles itself (tomllib, no cockpit): same keys, same defaults."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from cockpit.profile import (
    DataSection,
    GrpoSection,
    LoraSection,
    ModelSection,
    TrainSection,
)
from engines.settings import (
    DEFAULT_FORMAT_PATTERN,
    DataSettings,
    GrpoSettings,
    LoraSettings,
    ModelSettings,
    TrainSettings,
    load_settings,
    settings_from_dict,
)

PROFILES = Path(__file__).resolve().parents[2] / "profiles"


@pytest.mark.parametrize(
    ("engine_side", "cockpit_side"),
    [
        (ModelSettings, ModelSection),
        (LoraSettings, LoraSection),
        (DataSettings, DataSection),
        (TrainSettings, TrainSection),
        (GrpoSettings, GrpoSection),
    ],
)
def test_defaults_match_the_profile_schema(engine_side, cockpit_side):
    ours = engine_side()
    theirs = cockpit_side(name_or_path="") if cockpit_side is ModelSection else cockpit_side()
    for f in fields(cockpit_side):
        assert getattr(ours, f.name) == getattr(theirs, f.name), f.name


def test_a_minimal_profile_gets_the_defaults():
    settings = settings_from_dict({"name": "x", "model": {"name_or_path": "m"}})
    assert settings.engine == "sft"
    assert settings.model.name_or_path == "m" and settings.model.max_seq_length == 2048
    assert settings.train.gradient_checkpointing == "on"
    assert settings.grpo.format_pattern == DEFAULT_FORMAT_PATTERN


def test_no_lora_table_means_a_full_fine_tune_as_in_cockpit():
    base = {"name": "x", "model": {"name_or_path": "m"}}
    assert settings_from_dict(base).lora is None
    assert settings_from_dict({**base, "lora": {}}).lora == LoraSettings()


def test_types_are_converted_and_unknown_keys_ignored():
    settings = settings_from_dict(
        {
            "model": {"name_or_path": "m", "future_key": 1},
            "lora": {"target_modules": ["q_proj", "v_proj"], "dropout": 0},
            "train": {"epochs": 2, "max_steps": 5.0},
            "grpo": {"rewards": ["format", "mod:fn"], "target_length": 32},
        }
    )
    assert settings.lora is not None
    assert settings.lora.target_modules == ("q_proj", "v_proj")
    assert isinstance(settings.lora.dropout, float)
    assert settings.train.epochs == 2.0 and settings.train.max_steps == 5
    assert settings.grpo.rewards == ("format", "mod:fn") and settings.grpo.target_length == 32


@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_profile_reads(path):
    settings = load_settings(path)
    assert settings.model.name_or_path and settings.engine in ("sft", "grpo")
    assert settings.source == path
