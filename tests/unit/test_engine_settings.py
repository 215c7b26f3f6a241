"""The engine reads profiles itself (tomllib, no cockpit): same keys, same defaults."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cockpit.profiles.store import load_profile_file
from engines.profile_schema import (
    DEFAULT_FORMAT_PATTERN,
    LoraSection,
    profile_from_dict,
    read_profile,
)

PROFILES = Path(__file__).resolve().parents[2] / "profiles"


@pytest.mark.parametrize("path", sorted(PROFILES.glob("*.toml")), ids=lambda p: p.stem)
def test_the_engine_reads_a_profile_as_cockpit_validates_it(path):
    loaded = load_profile_file(path)
    engine_side = read_profile(path)
    assert loaded.profile is not None
    assert replace(engine_side, grpo=loaded.profile.grpo) == loaded.profile


def test_a_minimal_profile_gets_the_defaults():
    settings = profile_from_dict({"name": "x", "model": {"name_or_path": "m"}})
    assert settings.engine == "sft"
    assert settings.model.name_or_path == "m" and settings.model.max_seq_length == 2048
    assert settings.train.gradient_checkpointing == "on"
    assert settings.grpo.format_pattern == DEFAULT_FORMAT_PATTERN


def test_no_lora_table_means_a_full_fine_tune_as_in_cockpit():
    base = {"name": "x", "model": {"name_or_path": "m"}}
    assert profile_from_dict(base).lora is None
    assert profile_from_dict({**base, "lora": {}}).lora == LoraSection()


def test_types_are_converted_and_unknown_keys_ignored():
    settings = profile_from_dict(
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
    settings = read_profile(path)
    assert settings.model.name_or_path and settings.engine in ("sft", "grpo")
