"""Training profiles: the typed schema of a profile TOML file.

The key names are a user-facing format documented in the README: keep them stable.
Values here are already validated; raw TOML dicts (with problems) live in the editor and
the loader until they validate (`cockpit.profile_validate.parse_profile`). Files are read,
written and listed by `cockpit.profile_store`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

Engine = Literal["sft", "grpo"]
Quantization = Literal["none", "8bit", "4bit"]
Backend = Literal["auto", "unsloth", "peft"]
DType = Literal["auto", "bf16", "fp16", "fp32"]
Attention = Literal["auto", "sdpa", "eager", "flash_attention_2"]
DataFormat = Literal["auto", "chat", "instruction", "prompt-completion", "text"]
Checkpointing = Literal["off", "on", "unsloth"]
Optimizer = Literal["adamw", "adamw_8bit", "paged_adamw_8bit", "paged_adamw", "adafactor", "sgd"]

TINY_DEMO_MODEL = "cockpit:tiny-llama"
"""`[model] name_or_path` of the tiny Llama-style model the engine builds locally (no download)."""

TOP_KEYS = ("name", "description", "engine")
"""The top-level keys, in file order."""
SECTIONS = ("model", "lora", "data", "train", "grpo", "env", "hardware")
"""The tables, in file order."""


@dataclass(frozen=True)
class ModelSection:
    name_or_path: str
    """Hub id (e.g. "Qwen/Qwen2.5-0.5B-Instruct") or a local directory with config.json."""
    quantization: Quantization = "none"
    backend: Backend = "auto"
    dtype: DType = "auto"
    max_seq_length: int = 2048
    attn_implementation: Attention = "auto"


@dataclass(frozen=True)
class LoraSection:
    r: int = 16
    alpha: int = 16
    dropout: float = 0.0
    target_modules: str | tuple[str, ...] = "all-linear"
    """"all-linear" or module names such as ("q_proj", "v_proj")."""


@dataclass(frozen=True)
class DataSection:
    path: str = "data/demo.jsonl"
    """Local file or dataset id. Relative paths are looked up next to the profile file, then
    in the current folder, then in the shipped profiles folder (see `resolve_data_path`)."""
    format: DataFormat = "auto"
    eval_fraction: float = 0.0


@dataclass(frozen=True)
class TrainSection:
    batch_size: int = 1
    grad_accum: int = 1
    epochs: float = 1.0
    max_steps: int = 0
    """0: train for `epochs`."""
    learning_rate: float = 2e-4
    gradient_checkpointing: Checkpointing = "on"
    optimizer: Optimizer = "adamw"
    seed: int = 3407
    save_steps: int = 0
    packing: bool = False


@dataclass(frozen=True)
class GrpoSection:
    num_generations: int = 4
    max_prompt_length: int = 512
    max_completion_length: int = 256
    beta: float = 0.0
    rewards: tuple[str, ...] = ("format", "exact_match")
    """Built-in "format", "exact_match", "length", or user rewards as "module:function"."""
    format_pattern: str = r"<answer>.*?</answer>"
    """Regular expression the `format` reward looks for in a completion."""
    target_length: int = 64
    """Completion length the `length` reward favours."""


@dataclass(frozen=True)
class EnvSection:
    python: str = ""
    """Training interpreter; empty: the one running cockpit."""


@dataclass(frozen=True)
class HardwareSection:
    gpus: int | Literal["auto"] = 1
    gpu_memory_gib: float = 0.0
    """0: the detected GPU; otherwise plan for a card of this size."""
    reserve_gib: float = 0.0
    """VRAM to leave free (a GPU that also drives the desktop)."""


@dataclass(frozen=True)
class Profile:
    name: str
    model: ModelSection
    description: str = ""
    engine: Engine = "sft"
    lora: LoraSection | None = field(default_factory=LoraSection)
    """None: a full fine-tune (the [lora] table is omitted)."""
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)
    grpo: GrpoSection | None = None
    """Present for engine = "grpo"."""
    env: EnvSection = field(default_factory=EnvSection)
    hardware: HardwareSection = field(default_factory=HardwareSection)


SECTION_TYPES: dict[str, type] = {
    "model": ModelSection,
    "lora": LoraSection,
    "data": DataSection,
    "train": TrainSection,
    "grpo": GrpoSection,
    "env": EnvSection,
    "hardware": HardwareSection,
}


def table_keys(table: str) -> tuple[str, ...]:
    """The known keys of a table in file order; "" is the top level."""
    if table == "":
        return TOP_KEYS
    return tuple(f.name for f in fields(SECTION_TYPES[table]))
