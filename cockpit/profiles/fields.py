"""The profile editor's field table and the text ↔ TOML value rules of its inputs.

The editor works on the raw TOML dict, never on a validated `Profile`, so whatever the
user types survives until they fix it: text that is not a number stays a string (and the
validator flags it), an empty input removes the key (its default applies). Each field's
widget kind comes from the schema's type hints, so a key added to `engines.profile_schema`
appears in the form without touching this module. No Textual here: pure and testable.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal, get_args, get_origin

from cockpit.profiles.validate import show_value
from cockpit.vram.analytic import Estimate
from cockpit.vram.checkpoint import checkpoint_note, checkpoint_size
from engines.profile_schema import DEFAULT_SAVE_STEPS, SECTION_TYPES, SECTIONS, TOP_KEYS, Profile

Kind = Literal["text", "int", "float", "choice", "flag", "names", "gpus", "pairs"]


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ALL_LINEAR = "all-linear"
"""The one word [lora] target_modules takes instead of a list."""
ABSENT: Any = _Absent()
"""A key that is not in the raw dict (the form shows its default), or one to remove."""

_PLACEHOLDERS: dict[str, str] = {
    "name": "a short label, e.g. my-3b-qlora",
    "model.name_or_path": "hub id or local directory with config.json",
    "lora.target_modules": "all-linear, or q_proj, v_proj, …",
    "data.path": "local file or dataset id",
    "data.columns": "e.g. prompt=question, completion=answer (empty: columns as named)",
    "grpo.rewards": "format, exact_match",
    "env.python": "empty: the interpreter running cockpit",
    "hardware.gpus": "1, 2, … or auto",
    "hardware.gpu_memory_gib": "0: the card planned for above",
    "train.max_steps": "0: train for epochs",
    "train.save_steps": f"default {DEFAULT_SAVE_STEPS}; 0: no checkpoints",
    "train.save_total_limit": "default 2 (the newest); 0: keep every one",
    "launch.hosts": "ssh: gpu1, gpu2 (from ~/.ssh/config; the first is rank 0)",
    "launch.gpus_per_host": "ssh: default 1; 0: one process on the CPU",
    "launch.partition": "slurm: empty: the cluster's default",
    "launch.gpus_per_node": "slurm: default 1; 0: one process on the CPU",
    "launch.time": "slurm: e.g. 04:00:00; empty: the partition's limit",
    "launch.account": "slurm: empty: your default account",
    "launch.sbatch": "slurm: more options, e.g. --qos=high, --mem=64G",
}


@dataclass(frozen=True)
class FieldSpec:
    """One key of the profile format and how the form edits it."""

    table: str
    """The TOML table ("" for the top level)."""
    key: str
    kind: Kind
    choices: tuple[str, ...] = ()
    """Allowed values of a "choice" field."""
    default: Any = ABSENT
    """The value used when the key is absent; ABSENT for a required key."""
    allow: str = ""
    """A single word a "names" field also accepts instead of a list ("all-linear")."""

    @property
    def dotted(self) -> str:
        """The key path problems are reported under, e.g. "train.batch_size"."""
        return f"{self.table}.{self.key}" if self.table else self.key

    @property
    def widget_id(self) -> str:
        return f"field-{self.table or 'top'}-{self.key}"

    @property
    def placeholder(self) -> str:
        """What an empty input means."""
        hint = _PLACEHOLDERS.get(self.dotted)
        if hint:
            return hint
        if self.default is ABSENT:
            return "required"
        return f"default {to_text(self, self.default)}" if self.default != "" else ""


def _kind(hint: Any) -> tuple[Kind, tuple[str, ...], str]:
    """(kind, choices, allowed word) for a schema type hint."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return "choice", tuple(args), ""
    if origin in (typing.Union, types.UnionType):  # int | "auto", or str | tuple[str, ...]
        if int in args:
            return "gpus", (), ""
        return "names", (), ALL_LINEAR
    if origin is tuple:
        return "names", (), ""
    if origin is dict:  # [data] columns: role=column pairs
        return "pairs", (), ""
    simple: dict[Any, Kind] = {bool: "flag", int: "int", float: "float"}
    return simple.get(hint, "text"), (), ""


def _specs(table: str, cls: type, keys: tuple[str, ...]) -> list[FieldSpec]:
    hints = typing.get_type_hints(cls)
    by_name = {f.name: f for f in fields(cls)}
    specs = []
    for key in keys:
        kind, choices, allow = _kind(hints[key])
        field = by_name[key]
        default: Any = ABSENT
        if field.default is not MISSING:
            default = field.default
        elif field.default_factory is not MISSING:
            default = field.default_factory()
        if isinstance(default, tuple):
            default = list(default)
        specs.append(FieldSpec(table, key, kind, choices, default, allow))
    return specs


def _all_specs() -> dict[str, tuple[FieldSpec, ...]]:
    tables = {"": tuple(_specs("", Profile, TOP_KEYS))}
    for name in SECTIONS:
        cls = SECTION_TYPES[name]
        tables[name] = tuple(_specs(name, cls, tuple(f.name for f in fields(cls))))
    return tables


FIELDS: dict[str, tuple[FieldSpec, ...]] = _all_specs()
"""Table ("" = top level) → its fields, tables and keys in file order."""
FIELD_BY_KEY: dict[str, FieldSpec] = {s.dotted: s for specs in FIELDS.values() for s in specs}


# -- raw dict access ------------------------------------------------------------------


def split_key(dotted: str) -> tuple[str, str]:
    """("train", "batch_size") for "train.batch_size"; ("", "name") for "name"."""
    table, _, key = dotted.rpartition(".")
    return table, key


def get_value(raw: Mapping[str, Any], dotted: str) -> Any:
    """The raw value at a dotted key, or ABSENT."""
    table, key = split_key(dotted)
    holder = raw.get(table, ABSENT) if table else raw
    if not isinstance(holder, Mapping):
        return ABSENT
    return holder.get(key, ABSENT)


def set_value(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """Set (or with ABSENT remove) a dotted key; a missing or non-table table becomes one."""
    table, key = split_key(dotted)
    holder = raw
    if table:
        if not isinstance(raw.get(table), dict):
            if value is ABSENT:
                return
            raw[table] = {}
        holder = raw[table]
    if value is ABSENT:
        holder.pop(key, None)
    else:
        holder[key] = value


# -- what an input shows and what its text means ------------------------------------


def to_text(spec: FieldSpec, value: Any) -> str:
    """The text an input shows for a raw value ("" when absent)."""
    if value is ABSENT:
        return ""
    if spec.kind == "names" and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if spec.kind == "pairs" and isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, str):
        textual = spec.kind in ("text", "names") or (spec.kind == "gpus" and value == "auto")
        return value if textual else json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return show_value(value, limit=10_000)


def from_text(spec: FieldSpec, text: str) -> Any:
    """The raw value for what the user typed; ABSENT (remove the key) for an empty input.

    Text kept as typed when it is not a value of the field's type, so the validator can
    say what is wrong and nothing typed is lost.
    """
    if spec.kind == "text":
        return text
    stripped = text.strip()
    if spec.kind == "names":
        return _names(spec, stripped)
    if spec.kind == "pairs":
        return _pairs(stripped)
    if not stripped:
        return ABSENT
    if spec.kind == "gpus" and stripped == "auto":
        return stripped
    return _scalar(stripped)


def _names(spec: FieldSpec, text: str) -> Any:
    if spec.allow and text == spec.allow:
        return text
    if not text:
        return ABSENT if spec.default is not ABSENT else []
    parts = (part.strip().strip("[]").strip().strip("\"'") for part in text.split(","))
    return [part for part in parts if part]


def _pairs(text: str) -> Any:
    """ "prompt=question, completion=answer" → that table; text that is not pairs is kept
    (the rule says what to type)."""
    if not text:
        return ABSENT
    table: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        role, sep, column = part.partition("=")
        if not sep:
            return text
        table[role.strip().strip("\"'")] = column.strip().strip("\"'")
    return table


def _scalar(text: str) -> Any:
    """A TOML-like reading of one number-ish input: 4, 2e-4, true, "quoted"; else the text."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text
    if text in ("true", "false"):
        return text == "true"
    for convert in (int, float):
        try:
            number = convert(text)
        except (ValueError, OverflowError):
            continue
        if isinstance(number, float) and not math.isfinite(number) and text.isalpha():
            return text  # "inf"/"nan" typed as words stay words
        return number
    return text


# -- what a field costs, for this profile --------------------------------------------


def field_notes(profile: Profile | None, result: Estimate | None) -> dict[str, str]:
    """A line of help under the fields whose cost depends on the whole profile (dotted key
    → text): what `save_steps` and `save_total_limit` cost on disk. Empty without an
    estimate (an invalid profile, an unknown model)."""
    if profile is None or result is None:
        return {}
    saving = checkpoint_note(profile.train, checkpoint_size(result))
    return {"train.save_steps": f"checkpoints: {saving}"}
