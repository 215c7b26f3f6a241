"""What each profile key accepts, and the "did you mean" guesses for keys that do not exist.

Each rule turns a raw TOML value into the typed value, or into a message saying what is
allowed plus a likely fix. Kept apart from the parse walk (`cockpit.profiles.validate`) so the table
of rules reads as the format's reference. Key order follows `engines.profile_schema`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, get_args

from engines.profile_schema import (
    DATA_ROLES,
    SECTIONS,
    Attention,
    Backend,
    Checkpointing,
    DataFormat,
    DType,
    Engine,
    Optimizer,
    Quantization,
    VllmMode,
    Where,
)

Verdict = tuple[Any, "str | None", "str | None"]
"""(converted value, error message or None when valid, suggestion or None)."""
Check = Callable[[Any], Verdict]

_INT_MAX = 2**63 - 1  # TOML integers are 64-bit


def _as_number_hint(value: Any, *, integer: bool = False) -> str | None:
    """'write 4 without quotes' for "4"; None when the text is not such a number."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        return None
    return f"write {text} without quotes" if math.isfinite(number) else None


def _int(minimum: int) -> Check:
    allowed = f"must be an integer ≥ {minimum}"

    def check(value: Any) -> Verdict:
        if isinstance(value, bool):
            return value, f"{allowed}, not true/false", None
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return value, allowed, f"write {int(value)} (no decimal point)"
        if not isinstance(value, int):
            return value, allowed, _as_number_hint(value, integer=True)
        if not minimum <= value <= _INT_MAX:
            return value, allowed if value < minimum else f"{allowed} and ≤ {_INT_MAX}", None
        return value, None, None

    return check


def _number(minimum: float, *, above: bool = False, below: float | None = None) -> Check:
    low = f"> {minimum:g}" if above else f"≥ {minimum:g}"
    allowed = f"must be a number {low}" + (f" and < {below:g}" if below is not None else "")

    def check(value: Any) -> Verdict:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value, allowed, _as_number_hint(value)
        try:
            number = float(value)
        except OverflowError:
            return value, allowed, None
        too_low = number <= minimum if above else number < minimum
        too_high = below is not None and number >= below
        if not math.isfinite(number) or too_low or too_high:
            return value, allowed, None
        return number, None, None

    return check


def _text(*, required: bool = False) -> Check:
    def check(value: Any) -> Verdict:
        if not isinstance(value, str):
            return value, "must be a string in double quotes", None
        if required and not value.strip():
            return value, "must not be empty", None
        return value, None, None

    return check


_NAME_MARKS = "-_. "
NAME_ALLOWED = "may hold only letters, digits, spaces and - _ . (no control characters or /)"


def _profile_name(value: Any) -> Verdict:
    """A label printed by every command and used in run ids: nothing a terminal obeys."""
    converted, message, hint = _text(required=True)(value)
    if message is not None or all(c.isalnum() or c in _NAME_MARKS for c in value):
        return converted, message, hint
    cleaned = "".join(c if c.isalnum() or c in _NAME_MARKS else "-" for c in value)
    cleaned = re.sub(r"-{2,}", "-", cleaned).strip("-. ")
    return value, NAME_ALLOWED, f'e.g. name = "{cleaned}"' if cleaned else None


def _regex(value: Any) -> Verdict:
    if not isinstance(value, str):
        return value, "must be a regular expression in quotes", None
    try:
        re.compile(value)
    except re.error as exc:
        return value, f"is not a valid regular expression ({exc})", None
    return value, None, None


def _flag(value: Any) -> Verdict:
    if isinstance(value, bool):
        return value, None, None
    hint = None
    if isinstance(value, str) and value.lower() in ("true", "false"):
        hint = f"write {value.lower()} without quotes"
    return value, "must be true or false", hint


def _choice(options: tuple[str, ...], aliases: Mapping[str, str] | None = None) -> Check:
    allowed = "must be one of " + ", ".join(f'"{o}"' for o in options)
    aliases = aliases or {}

    def check(value: Any) -> Verdict:
        if isinstance(value, str) and value in options:
            return value, None, None
        return value, allowed, _choice_hint(value, options, aliases)

    return check


def _choice_hint(value: Any, options: tuple[str, ...], aliases: Mapping[str, str]) -> str | None:
    key = str(value).strip().lower() if isinstance(value, (str, bool)) else None
    if key is None:
        return None
    for guess in (key if key in options else None, aliases.get(key)):
        if guess is not None:
            return f'did you mean "{guess}"?'
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
    return f'did you mean "{close[0]}"?' if close else None


def _string_list(what: str, *, allow: str | None = None) -> Check:
    allowed = f"must be a non-empty list of {what} such as {_EXAMPLES[what]}"
    if allow:
        allowed = f'must be "{allow}" or a non-empty list of {what} such as {_EXAMPLES[what]}'

    def check(value: Any) -> Verdict:
        if allow and value == allow:
            return value, None, None
        if isinstance(value, str):
            hint = f'did you mean "{allow}"?' if allow and value.lower() == allow else None
            return value, allowed, hint or f'write ["{value}"]'
        ok = isinstance(value, (list, tuple)) and value
        if not ok or not all(isinstance(v, str) and v.strip() for v in value):
            return value, allowed, None
        return tuple(value), None, None

    return check


_EXAMPLES = {
    "module names": '["q_proj", "v_proj"]',
    "reward names": '["format", "exact_match"]',
    "host names": '["gpu1", "gpu2"]',
}


def _word(what: str) -> Check:
    """A name handed to ssh or Slurm as one argument: no spaces, no leading "-" (an option)."""

    def check(value: Any) -> Verdict:
        converted, message, hint = _text()(value)
        if message is None and value and (value.startswith("-") or not value.isprintable()):
            return value, f"must be a {what}, not an option (no leading '-')", None
        if message is None and any(c.isspace() for c in value):
            return value, f"must be one {what}, without spaces", None
        return converted, message, hint

    return check


def _hosts(value: Any) -> Verdict:
    if isinstance(value, (list, tuple)) and not value:
        return (), None, None  # none yet: only where = "ssh" needs them
    converted, message, hint = _string_list("host names")(value)
    if message is not None:
        return converted, message, hint
    for host in converted:
        if _word("host name")(host)[1] is not None:
            return value, f"{host!r} is not a host name (no spaces, no leading '-')", None
    return converted, None, None


_SLURM_TIME = re.compile(r"\d+(:\d{1,2}){0,2}|\d+-\d+(:\d{1,2}){0,2}|unlimited|infinite", re.I)
_SLURM_TIME_ALLOWED = (
    'must be a Slurm time limit: "minutes", "hours:minutes:seconds" or '
    '"days-hours:minutes:seconds", e.g. "04:00:00"'
)


def _slurm_time(value: Any) -> Verdict:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value, _SLURM_TIME_ALLOWED, f'write "{value}" in quotes ({value} minutes)'
    converted, message, hint = _text()(value)
    if message is not None or not value or _SLURM_TIME.fullmatch(value.strip()):
        return (converted.strip() if message is None else converted), message, hint
    short = re.fullmatch(r"(\d+)\s*(h|hours?|m|min|minutes?|d|days?)", value.strip(), re.I)
    if short:
        number, unit = int(short[1]), short[2][0].lower()
        hint = {"h": f'"{number:02d}:00:00"', "m": f'"{number}"', "d": f'"{number}-00:00:00"'}
        return value, _SLURM_TIME_ALLOWED, f"write {hint[unit]}"
    return value, _SLURM_TIME_ALLOWED, None


def _sbatch_options(value: Any) -> Verdict:
    """Extra #SBATCH options: each one option ("--qos=high"), never a second line."""
    allowed = 'must be a list of sbatch options such as ["--qos=high", "--mem=64G"]'
    if not isinstance(value, (list, tuple)):
        return value, allowed, f'write ["{value}"]' if isinstance(value, str) else None
    for item in value:
        if not isinstance(item, str) or not item.strip():
            return value, allowed, None
        text = item.strip()
        if text.upper().startswith("#SBATCH"):
            return value, allowed, f'write "{text[7:].strip()}" (cockpit adds #SBATCH)'
        if not text.startswith("-") or not text.isprintable():
            return value, allowed, f'an option starts with "-", e.g. "--{text}"'
    return tuple(item.strip() for item in value), None, None


def _port(value: Any) -> Verdict:
    converted, message, hint = _int(1)(value)
    if message is None and value > 65535:
        return value, "must be a TCP port, 1 to 65535", None
    return converted, message, hint


def _gpus(value: Any) -> Verdict:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if value == "auto" or (is_int and 1 <= value <= _INT_MAX):
        return value, None, None
    hint = 'did you mean "auto"?' if isinstance(value, str) and value.lower() == "auto" else None
    return value, 'must be an integer ≥ 1 or "auto"', hint or _as_number_hint(value, integer=True)


_ROLE_ALIASES = {
    "conversations": "messages",
    "dialog": "messages",
    "question": "prompt",
    "query": "prompt",
    "response": "completion",
    "answer_text": "completion",
    "chosen": "completion",
    "context": "input",
}
_COLUMNS_ALLOWED = (
    'must be a table of role = "column name", e.g. { prompt = "question", completion = '
    '"answer" }; roles: ' + ", ".join(DATA_ROLES)
)


def _data_columns(value: Any) -> Verdict:
    """[data] columns: role → the file's column name; a role that is not one gets a guess."""
    if not isinstance(value, Mapping):
        return value, _COLUMNS_ALLOWED, None
    for role, column in value.items():
        if role not in DATA_ROLES:
            hint = _choice_hint(role, DATA_ROLES, _ROLE_ALIASES)
            if isinstance(column, str) and column in DATA_ROLES:  # written column = "role"
                hint = f'the role comes first: {column} = "{role}"'
            return value, f"unknown role {role!r}: {_COLUMNS_ALLOWED}", hint
        if not isinstance(column, str) or not column.strip():
            return value, f"{role} must name a column in quotes: {_COLUMNS_ALLOWED}", None
    return dict(value), None, None


# -- the schema: key → check, per table, in file order ----------------------------------

_OFF_ON = {"true": "on", "yes": "on", "false": "off", "no": "off", "none": "off"}
RULES: dict[str, dict[str, Check]] = {
    "": {"name": _profile_name, "description": _text(), "engine": _choice(get_args(Engine))},
    "model": {
        "name_or_path": _text(required=True),
        "quantization": _choice(
            get_args(Quantization),
            {
                "nf4": "4bit",
                "4-bit": "4bit",
                "int4": "4bit",
                "8-bit": "8bit",
                "int8": "8bit",
                "false": "none",
                "no": "none",
                "off": "none",
            },
        ),
        "backend": _choice(get_args(Backend), {"hf": "peft", "transformers": "peft"}),
        "dtype": _choice(
            get_args(DType),
            {"bfloat16": "bf16", "float16": "fp16", "half": "fp16", "float32": "fp32"},
        ),
        "max_seq_length": _int(1),
        "attn_implementation": _choice(
            get_args(Attention),
            {
                "fa2": "flash_attention_2",
                "flash_attn": "flash_attention_2",
                "flash_attention": "flash_attention_2",
                "flash-attention-2": "flash_attention_2",
            },
        ),
    },
    "lora": {
        "r": _int(1),
        "alpha": _int(1),
        "dropout": _number(0.0, below=1.0),
        "target_modules": _string_list("module names", allow="all-linear"),
    },
    "data": {
        "path": _text(required=True),
        "format": _choice(
            get_args(DataFormat),
            {
                "messages": "chat",
                "sharegpt": "chat",
                "conversational": "chat",
                "alpaca": "instruction",
                "completion": "prompt-completion",
            },
        ),
        "eval_fraction": _number(0.0, below=1.0),
        "columns": _data_columns,
    },
    "train": {
        "batch_size": _int(1),
        "grad_accum": _int(1),
        "epochs": _number(0.0),
        "max_steps": _int(0),
        "learning_rate": _number(0.0, above=True),
        "gradient_checkpointing": _choice(get_args(Checkpointing), _OFF_ON),
        "optimizer": _choice(
            get_args(Optimizer),
            {
                "adamw_torch": "adamw",
                "adamw_torch_fused": "adamw",
                "adam": "adamw",
                "adamw_bnb_8bit": "adamw_8bit",
                "paged_adamw_32bit": "paged_adamw",
            },
        ),
        "seed": _int(0),
        "save_steps": _int(0),
        "save_total_limit": _int(0),
        "packing": _flag,
    },
    "grpo": {
        "num_generations": _int(2),
        "max_prompt_length": _int(1),
        "max_completion_length": _int(1),
        "beta": _number(0.0),
        "rewards": _string_list("reward names"),
        "format_pattern": _regex,
        "target_length": _int(1),
        "use_vllm": _flag,
        "vllm_mode": _choice(
            get_args(VllmMode), {"colocated": "colocate", "remote": "server", "serve": "server"}
        ),
        "vllm_gpu_memory_utilization": _number(0.0, above=True, below=1.0),
    },
    "env": {"python": _text()},
    "hardware": {
        "gpus": _gpus,
        "gpu_memory_gib": _number(0.0),
        "reserve_gib": _number(0.0),
    },
    "launch": {
        "where": _choice(
            get_args(Where),
            {
                "remote": "ssh",
                "hosts": "ssh",
                "cluster": "slurm",
                "sbatch": "slurm",
                "here": "local",
            },
        ),
        "hosts": _hosts,
        "gpus_per_host": _int(0),
        "partition": _word("partition name"),
        "nodes": _int(1),
        "gpus_per_node": _int(0),
        "time": _slurm_time,
        "account": _word("account name"),
        "sbatch": _sbatch_options,
        "port": _port,
    },
}


# -- rules across keys ------------------------------------------------------------------

GRPO_BATCH_CAUSE = "grpo_num_generations_batch_mismatch"
QLORA_CAUSE = "qlora_no_adapter_attached"
"""Catalog ids (cockpit/knowledge/catalog.toml) of what these rules refuse: a log of the run
they prevent would be explained with the same id and fix."""


def grpo_batch_rule(
    batch_size: int, grad_accum: int, processes: int, num_generations: int
) -> tuple[str, str] | None:
    """(what is wrong, the fix) when TRL's GRPOConfig refuses this batch, else None.

    TRL (0.19 to 1.16 alike) generates `per_device_train_batch_size × num_processes ×
    steps_per_generation` completions per generation batch, steps_per_generation defaulting
    to gradient_accumulation_steps, and raises unless that is a multiple of num_generations
    (whole groups of completions per prompt). num_generations ≥ 2 is the key's own rule.
    """
    generated = batch_size * grad_accum * processes
    if num_generations < 1 or generated % num_generations == 0:
        return None
    where = f" × {processes} processes" if processes > 1 else ""
    message = (
        f"TRL generates batch_size × grad_accum{where} = {generated} completions per step, "
        f"in groups of num_generations = {num_generations}: it must be a multiple of it"
    )
    unit = num_generations // math.gcd(num_generations, grad_accum * processes)
    fixes = [f"train.batch_size = {-(-batch_size // unit) * unit}"]
    divisors = [n for n in range(num_generations - 1, 1, -1) if generated % n == 0]
    if divisors:
        fixes.append(f"grpo.num_generations = {divisors[0]}")
    return message, "set " + " or ".join(fixes)


# -- unknown keys: names from other tools, typos, keys in the wrong table ----------------

_KEY_ALIASES: dict[str, str] = {
    "per_device_train_batch_size": "train.batch_size",
    "gradient_accumulation_steps": "train.grad_accum",
    "num_train_epochs": "train.epochs",
    "lr": "train.learning_rate",
    "optim": "train.optimizer",
    "lora_r": "lora.r",
    "rank": "lora.r",
    "lora_alpha": "lora.alpha",
    "lora_dropout": "lora.dropout",
    "model_name": "model.name_or_path",
    "model_id": "model.name_or_path",
    "base_model": "model.name_or_path",
    "model_name_or_path": "model.name_or_path",
    "load_in_4bit": 'model.quantization = "4bit"',
    "load_in_8bit": 'model.quantization = "8bit"',
    "max_length": "model.max_seq_length",
    "max_seq_len": "model.max_seq_length",
    "torch_dtype": "model.dtype",
    "dataset": "data.path",
    "dataset_path": "data.path",
    "num_gpus": "hardware.gpus",
    "rollout_n": "grpo.num_generations",
    "rollouts": "grpo.num_generations",
    "max_response_length": "grpo.max_completion_length",
    "kl_coef": "grpo.beta",
    "gpu_memory_utilization": "grpo.vllm_gpu_memory_utilization",
    "num_nodes": "launch.nodes",
    "num_machines": "launch.nodes",
    "time_limit": "launch.time",
    "queue": "launch.partition",
    "vllm": "grpo.use_vllm",
    "training": "[train]",
    "peft": "[lora]",
    "dataset_config": "[data]",
}
_TABLE_ALIASES: dict[str, dict[str, str]] = {
    "model": {
        "name": "model.name_or_path",
        "path": "model.name_or_path",
        "id": "model.name_or_path",
    },
}


def _where(target: str, table: str) -> str:
    """'batch_size' inside its own table, '[train] batch_size' from elsewhere."""
    if target.startswith("["):
        return target
    section, _, rest = target.partition(".")
    if section == table:
        return f"'{rest}'" if "=" not in rest else rest
    return f"[{section}] {rest}" if section else f"top-level '{rest}'"


def _known_elsewhere(key: str, table: str) -> str | None:
    for other, rules in RULES.items():
        if other != table and key in rules:
            return f"{other}.{key}" if other else f".{key}"
    return None


def unknown_key_hint(key: str, table: str) -> str | None:
    """A "did you mean …?" for a key that `table` ("" = top level) does not have."""
    low = key.strip().lower()
    candidates = [*RULES[table], *(SECTIONS if table == "" else ())]
    target = _TABLE_ALIASES.get(table, {}).get(low) or _KEY_ALIASES.get(low)
    if low in candidates:
        target = f"[{low}]" if low in SECTIONS and table == "" else f"{table}.{low}"
    target = target or _known_elsewhere(low, table)
    if target is None:
        close = difflib.get_close_matches(low, candidates, n=1, cutoff=0.6)
        if close and table == "" and close[0] in SECTIONS:
            target = f"[{close[0]}]"
        elif close:
            target = f"{table}.{close[0]}"
    return f"did you mean {_where(target, table)}?" if target else None


def allowed_keys(table: str, *, is_table: bool = False) -> str:
    """What a table may contain, for the "unknown key" message."""
    tables = ", ".join(f"[{s}]" for s in SECTIONS)
    if table == "" and is_table:
        return f"not a profile table (tables: {tables})"
    if table == "":
        return f"not a profile key (top level: {', '.join(RULES[''])}; tables: {tables})"
    return f"not a key of [{table}] (known: {', '.join(RULES[table])})"
