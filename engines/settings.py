"""The run's profile, read with tomllib: the engine may run where cockpit is not installed.

The run directory's ``profile.toml`` has the schema of ``profiles/*.toml`` (defined and
validated by ``cockpit.profile``). cockpit validates before it spawns the engine, so this
module only fills the defaults the engine needs and converts types; it keeps the same key
names and default values, and tolerates keys it does not know.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_FORMAT_PATTERN = r"<answer>.*?</answer>"


@dataclass(frozen=True)
class ModelSettings:
    name_or_path: str = ""
    quantization: str = "none"
    backend: str = "auto"
    dtype: str = "auto"
    max_seq_length: int = 2048
    attn_implementation: str = "auto"


@dataclass(frozen=True)
class LoraSettings:
    r: int = 16
    alpha: int = 16
    dropout: float = 0.0
    target_modules: str | tuple[str, ...] = "all-linear"


@dataclass(frozen=True)
class DataSettings:
    path: str = "data/demo.jsonl"
    format: str = "auto"
    eval_fraction: float = 0.0


@dataclass(frozen=True)
class TrainSettings:
    batch_size: int = 1
    grad_accum: int = 1
    epochs: float = 1.0
    max_steps: int = 0
    learning_rate: float = 2e-4
    gradient_checkpointing: str = "on"
    optimizer: str = "adamw"
    seed: int = 3407
    save_steps: int = 0
    packing: bool = False


@dataclass(frozen=True)
class GrpoSettings:
    num_generations: int = 4
    max_prompt_length: int = 512
    max_completion_length: int = 256
    beta: float = 0.0
    rewards: tuple[str, ...] = ("format", "exact_match")
    format_pattern: str = DEFAULT_FORMAT_PATTERN
    """Regex of the built-in `format` reward (engine-side extension of the schema)."""
    target_length: int = 64
    """Target completion length in tokens of the built-in `length` reward."""


@dataclass(frozen=True)
class Settings:
    """What the engine needs from a profile, with the profile schema's defaults."""

    name: str = ""
    engine: str = "sft"
    model: ModelSettings = field(default_factory=ModelSettings)
    lora: LoraSettings | None = field(default_factory=LoraSettings)
    """None: full fine-tune (no [lora] table)."""
    data: DataSettings = field(default_factory=DataSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    grpo: GrpoSettings = field(default_factory=GrpoSettings)
    source: Path | None = None
    """The TOML file these settings came from (relative data paths start there)."""


def load_settings(path: str | Path) -> Settings:
    """Read a profile TOML file (a run dir's profile.toml or a shipped profile)."""
    path = Path(path)
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    return settings_from_dict(raw, source=path)


def settings_from_dict(raw: Mapping[str, Any], source: Path | None = None) -> Settings:
    """Settings from a parsed profile; unknown keys are ignored, missing ones defaulted."""
    lora = raw.get("lora")
    return Settings(
        name=str(raw.get("name", "")),
        engine=str(raw.get("engine", "sft")),
        model=_section(ModelSettings, raw.get("model")),
        lora=None if lora is None else _section(LoraSettings, lora),
        data=_section(DataSettings, raw.get("data")),
        train=_section(TrainSettings, raw.get("train")),
        grpo=_section(GrpoSettings, raw.get("grpo")),
        source=source,
    )


def _section(cls: type, table: Any) -> Any:
    """An instance of a settings dataclass from a TOML table, converted to the field types."""
    if not isinstance(table, Mapping):
        table = {}
    defaults = cls()
    values = {}
    for f in fields(cls):
        if f.name not in table:
            continue
        values[f.name] = _convert(table[f.name], getattr(defaults, f.name))
    return cls(**values)


def _convert(value: Any, default: Any) -> Any:
    """Coerce a TOML value to the type of the field's default (lists become tuples)."""
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int) and not isinstance(value, bool) and isinstance(value, float):
        return int(value)
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
