"""The profile schema: the typed sections of a profile TOML file, defined once for both sides.

cockpit validates a profile against these dataclasses (`cockpit.profiles.validate`) before
it spawns a run; the engine reads the run's frozen profile.toml into the same dataclasses
(`read_profile`), leniently, since cockpit already checked it. Stdlib only, like
`engines.protocol`: cockpit imports it without the training stack, and the engine runs
where cockpit is not installed. The key names are a user-facing format documented in the
README: keep them stable.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from engines.protocol import TINY_LLAMA_ID

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

Engine = Literal["sft", "grpo"]
Quantization = Literal["none", "8bit", "4bit"]
Backend = Literal["auto", "unsloth", "peft"]
DType = Literal["auto", "bf16", "fp16", "fp32"]
Attention = Literal["auto", "sdpa", "eager", "flash_attention_2"]
DataFormat = Literal["auto", "chat", "instruction", "prompt-completion", "text"]
DATA_ROLES = (
    "messages",
    "prompt",
    "completion",
    "instruction",
    "input",
    "output",
    "text",
    "answer",
)
"""The roles a `[data] columns` mapping can give a column (the names the formats use)."""
Checkpointing = Literal["off", "on", "unsloth"]
Optimizer = Literal["adamw", "adamw_8bit", "paged_adamw_8bit", "paged_adamw", "adafactor", "sgd"]
VllmMode = Literal["colocate", "server"]
Where = Literal["local", "ssh", "slurm"]

TINY_DEMO_MODEL = TINY_LLAMA_ID
"""`[model] name_or_path` of the tiny Llama-style model the engine builds locally (no download)."""
DEFAULT_FORMAT_PATTERN = r"<answer>.*?</answer>"

DEFAULT_SAVE_STEPS = 50
"""A checkpoint every 50 optimizer steps unless the profile says otherwise. What a crash costs
is the work since the last checkpoint, so the interval is a number of steps, not a share of
the run (transformers' fractional `save_steps`): 50 steps are minutes on a consumer GPU
(a LoRA step takes ~1-20 s) however long the run, whereas "~10 saves per run" would lose
an hour of a ten-hour run. Saving that often is cheap for LoRA (adapter + optimizer state:
tens to hundreds of MB, about a second to write) and `save_total_limit` keeps the disk cost
flat however long the run; a full fine-tune writes the whole model + optimizer state each
time, so the Profiles form and `cockpit estimate` show the size before the run."""

TOP_KEYS = ("name", "description", "engine")
"""The top-level keys, in file order."""
SECTIONS = ("model", "lora", "data", "train", "grpo", "env", "hardware", "launch")
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
    in the current folder, then in the shipped profiles folder."""
    format: DataFormat = "auto"
    eval_fraction: float = 0.0
    columns: dict[str, str] = field(default_factory=dict)
    """Role → the file's column, for files whose columns have other names, e.g.
    `{ prompt = "question", completion = "answer" }` or `{ messages = "dialog" }`. Roles:
    DATA_ROLES. Empty: the columns are used as named."""


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
    save_steps: int = DEFAULT_SAVE_STEPS
    """Optimizer steps between checkpoints; 0: none, so a crash (OOM, SIGKILL) loses the run."""
    save_total_limit: int = 2
    """Checkpoints kept on disk, the newest ones; 0: keep every one."""
    packing: bool = False


@dataclass(frozen=True)
class GrpoSection:
    num_generations: int = 4
    max_prompt_length: int = 512
    max_completion_length: int = 256
    beta: float = 0.0
    rewards: tuple[str, ...] = ("format", "exact_match")
    """Built-in "format", "exact_match", "length", or user rewards as "module:function"."""
    format_pattern: str = DEFAULT_FORMAT_PATTERN
    """Regular expression the `format` reward looks for in a completion."""
    target_length: int = 64
    """Completion length the `length` reward favours."""
    use_vllm: bool = False
    """Generate the completions with vLLM (needs vllm in the training interpreter)."""
    vllm_mode: VllmMode = "colocate"
    """"colocate": vLLM runs in the training process and takes `vllm_gpu_memory_utilization`
    of the card; "server": a `trl vllm-serve` already running (another GPU) generates."""
    vllm_gpu_memory_utilization: float = 0.3
    """Share of the card colocated vLLM takes for its weights and KV cache (TRL's default)."""


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
class LaunchSection:
    """Where the run goes. Multi-machine runs go through `accelerate launch` rendezvous on
    every machine (one per host or node); Slurm does the queueing, never cockpit."""

    where: Where = "local"
    hosts: tuple[str, ...] = ()
    """ssh: the machines, as named in ~/.ssh/config; the first runs rank 0 (the main process)."""
    gpus_per_host: int = 1
    """ssh: training processes per host (0: one process on the CPU)."""
    partition: str = ""
    """slurm: the partition (empty: the cluster's default)."""
    nodes: int = 1
    gpus_per_node: int = 1
    """slurm: GPUs asked of each node (--gres=gpu:N), one training process each (0: CPU)."""
    time: str = ""
    """slurm: the time limit (--time), e.g. "04:00:00" or "1-00:00:00"; empty: the partition's."""
    account: str = ""
    sbatch: tuple[str, ...] = ()
    """slurm: more #SBATCH options, e.g. ["--qos=high", "--mem=64G"]."""
    port: int = 29500
    """The rendezvous port on the first host or node (accelerate's --main_process_port)."""

    @property
    def machines(self) -> int:
        """How many machines train: the hosts, the nodes, or this one."""
        if self.where == "ssh":
            return max(len(self.hosts), 1)
        return max(self.nodes, 1) if self.where == "slurm" else 1

    @property
    def per_machine(self) -> int | None:
        """Training processes on each machine (one per GPU, one on CPU); None: local, where
        [hardware] gpus decides."""
        if self.where == "ssh":
            return max(self.gpus_per_host, 1)
        return max(self.gpus_per_node, 1) if self.where == "slurm" else None


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
    launch: LaunchSection = field(default_factory=LaunchSection)


SECTION_TYPES: dict[str, type] = {
    "model": ModelSection,
    "lora": LoraSection,
    "data": DataSection,
    "train": TrainSection,
    "grpo": GrpoSection,
    "env": EnvSection,
    "hardware": HardwareSection,
    "launch": LaunchSection,
}


def table_keys(table: str) -> tuple[str, ...]:
    """The known keys of a table in file order; "" is the top level."""
    if table == "":
        return TOP_KEYS
    return tuple(f.name for f in fields(SECTION_TYPES[table]))


# -- the engine's reading ------------------------------------------------------------


def read_profile(path: str | Path) -> Profile:
    """The engine's reading of a profile file (a run dir's profile.toml, a shipped profile)."""
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    return profile_from_dict(raw)


def profile_from_dict(raw: Mapping[str, Any]) -> Profile:
    """A profile cockpit already validated, read leniently: unknown keys are ignored,
    missing ones defaulted, values converted to the field types; `grpo` is always set (its
    defaults when the table is absent)."""
    lora = raw.get("lora")
    return Profile(
        name=str(raw.get("name", "")),
        description=str(raw.get("description", "")),
        engine=str(raw.get("engine", "sft")),  # type: ignore[arg-type]
        model=_section(ModelSection, raw.get("model"), name_or_path=""),
        lora=None if lora is None else _section(LoraSection, lora),
        data=_section(DataSection, raw.get("data")),
        train=_section(TrainSection, raw.get("train")),
        grpo=_section(GrpoSection, raw.get("grpo")),
        env=_section(EnvSection, raw.get("env")),
        hardware=_section(HardwareSection, raw.get("hardware")),
        launch=_section(LaunchSection, raw.get("launch")),
    )


def _section(cls: type, table: Any, **required: Any) -> Any:
    """An instance of a section dataclass from a TOML table, converted to the field types;
    `required` gives the blank value of each field without a default."""
    if not isinstance(table, Mapping):
        table = {}
    defaults = cls(**required)
    values = dict(required)
    for f in fields(cls):
        if f.name not in table:
            continue
        values[f.name] = _convert(table[f.name], getattr(defaults, f.name))
    return cls(**values)


def _convert(value: Any, default: Any) -> Any:
    """Coerce a TOML value to the type of the field's default (lists become tuples)."""
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, int) and not isinstance(value, bool) and isinstance(value, float):
        return int(value)
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
