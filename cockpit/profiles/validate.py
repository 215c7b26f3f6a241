"""Raw profile dict → `Profile`, with every problem reported at once.

A profile is typed by people, so one pass collects all mistakes (unknown keys at any level,
wrong types, out-of-range numbers, unknown choices, missing required keys) instead of
stopping at the first, each with its key path, the bad value, what is allowed and a "did you
mean" where one can be guessed. The raw dict is never modified: the editor keeps what the
user typed and fixes it in place.

Decisions:
- A `[grpo]` table with `engine = "sft"` is a warning, not an error: it is ignored and the
  profile still loads with `grpo=None`. `engine = "grpo"` without `[grpo]` uses defaults.
- Warnings never block: `parse_profile` returns a Profile unless there is an error.
- What TRL would refuse at start (a GRPO batch that splits a group of completions) is an
  error, not a warning: the run would only die after loading the model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from cockpit.profiles.rules import (
    GRPO_BATCH_CAUSE,
    QLORA_CAUSE,
    RULES,
    allowed_keys,
    grpo_batch_rule,
    unknown_key_hint,
)
from engines.profile_schema import SECTION_TYPES, SECTIONS, GrpoSection, LaunchSection, Profile

Severity = Literal["error", "warning"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""`Problem.value` of a required key that is absent."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a profile, as `key = value: what is allowed — did you mean …`."""

    key: str
    """Dotted path, e.g. "train.batch_size"; "" for the file as a whole."""
    value: Any
    """The bad value as found (MISSING for an absent required key)."""
    message: str
    """What is wrong and what is allowed."""
    suggestion: str | None = None
    """A likely fix, e.g. "did you mean 'grad_accum'?"."""
    severity: Severity = "error"
    source: str = field(default="", compare=False)
    """The file the profile came from, when known."""
    catalog_id: str | None = None
    """The known cause (`cockpit/knowledge/catalog.toml`) this problem would end the run with."""

    def __str__(self) -> str:
        if self.value is MISSING or not self.key:
            text = f"{self.key or 'profile'}: {self.message}"
        elif isinstance(self.value, Mapping):
            text = f"[{self.key}]: {self.message}"
        else:
            text = f"{self.key} = {show_value(self.value)}: {self.message}"
        if self.suggestion:
            text += f" — {self.suggestion}"
        if self.catalog_id:
            text += f" [{self.catalog_id}]"
        return f"warning: {text}" if self.severity == "warning" else text


def show_value(value: Any, limit: int = 60, _depth: int = 0) -> str:
    """A value as it would look in the TOML file, shortened to `limit` characters."""
    if _depth > 3:
        return "…"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (list, tuple)):
        shown = [show_value(v, limit, _depth + 1) for v in value[:8]]
        text = "[" + ", ".join(shown + ["…"] * (len(value) > 8)) + "]"
    elif isinstance(value, Mapping):
        items = list(value.items())[:8]
        text = "{" + ", ".join(f"{k} = {show_value(v, limit, _depth + 1)}" for k, v in items) + "}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_problems(problems: list[Problem]) -> str:
    """Problems as lines for a terminal: errors first, then warnings, with a count."""
    if not problems:
        return "no problems"
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    counts = [f"{len(errors)} error{'s' * (len(errors) != 1)}"] if errors else []
    if warnings:
        counts.append(f"{len(warnings)} warning{'s' * (len(warnings) != 1)}")
    source = next((p.source for p in problems if p.source), "")
    head = f"{source}: {', '.join(counts)}" if source else ", ".join(counts)
    return "\n".join([head, *(f"  {p}" for p in errors + warnings)])


class _Collector:
    """Problems in the order found, each tagged with the source file."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(
        self,
        key: str,
        value: Any,
        message: str,
        suggestion: str | None = None,
        severity: Severity = "error",
        catalog_id: str | None = None,
    ) -> None:
        self.problems.append(
            Problem(key, value, message, suggestion, severity, self.source, catalog_id)
        )

    def failed(self, *keys: str) -> bool:
        """True if any of these keys already has a problem (its value is not known)."""
        return any(p.key in keys for p in self.problems)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def parse_profile(raw: Any, *, source: str = "") -> tuple[Profile | None, list[Problem]]:
    """Validate a raw profile dict (as read from TOML); never raises, never mutates `raw`.

    Returns the typed Profile (None if any problem is an error) and every problem found.
    """
    out = _Collector(source)
    if not isinstance(raw, Mapping):
        out.add("", raw, "a profile must be a table of keys: name = …, [model], …")
        return None, out.problems
    top = _parse_table(raw, "", out)
    tables = {name: _parse_section(raw, name, out) for name in SECTIONS}
    _check_required(raw, out)
    sections = _build_sections(tables)
    engine = top.get("engine", "sft")
    _cross_check(engine, tables, sections, out)
    if out.has_errors:
        return None, out.problems
    profile = Profile(
        name=top["name"],
        description=top.get("description", ""),
        engine=engine,
        model=sections["model"],
        lora=sections["lora"] if tables["lora"] is not None else None,
        data=sections["data"],
        train=sections["train"],
        grpo=sections["grpo"] if engine == "grpo" else None,
        env=sections["env"],
        hardware=sections["hardware"],
        launch=sections["launch"],
    )
    return profile, out.problems


def _key_path(table: str, key: Any) -> str:
    return f"{table}.{key}" if table else str(key)


def _parse_table(table: Mapping, name: str, out: _Collector) -> dict[str, Any]:
    """The valid values of one table, converted; every other key becomes a problem."""
    rules = RULES[name]
    values: dict[str, Any] = {}
    for key, value in table.items():
        if name == "" and key in SECTIONS:
            continue
        path = _key_path(name, key)
        if key not in rules:
            message = allowed_keys(name, is_table=isinstance(value, Mapping))
            out.add(path, value, message, unknown_key_hint(str(key), name))
            continue
        converted, message, hint = rules[key](value)
        if message is None:
            values[key] = converted
        else:
            out.add(path, value, message, hint)
    return values


def _parse_section(raw: Mapping, name: str, out: _Collector) -> dict[str, Any] | None:
    """None when the table is absent (or not a table, which is reported)."""
    if name not in raw:
        return None
    value = raw[name]
    if isinstance(value, Mapping):
        return _parse_table(value, name, out)
    hint = None
    if name == "lora" and value is False:
        hint = "omit the [lora] table for a full fine-tune"
    elif name == "model" and isinstance(value, str):
        hint = f'write [model] on its own line, then name_or_path = "{value}"'
    out.add(name, value, f"must be a table: a [{name}] line followed by its keys", hint)
    return None


def _check_required(raw: Mapping, out: _Collector) -> None:
    if "name" not in raw:
        out.add("name", MISSING, 'required: a short label such as name = "my-profile"')
    model = raw.get("model", MISSING)
    if model is MISSING:
        out.add(
            "model",
            MISSING,
            "required: a [model] table with name_or_path = a hub id or a local directory",
            'add [model] and name_or_path = "Qwen/Qwen2.5-0.5B-Instruct"',
        )
    elif isinstance(model, Mapping) and "name_or_path" not in model:
        out.add(
            "model.name_or_path",
            MISSING,
            "required: the model to train, a hub id or a local directory with config.json",
        )


def _build_sections(tables: Mapping[str, dict[str, Any] | None]) -> dict[str, Any]:
    """Every section as its dataclass, from the valid values (defaults for the rest)."""
    built: dict[str, Any] = {}
    for name, values in tables.items():
        values = dict(values or {})
        if name == "model":
            values.setdefault("name_or_path", "")
        built[name] = SECTION_TYPES[name](**values)
    return built


def _cross_check(
    engine: str, tables: Mapping[str, Any], sections: Mapping[str, Any], out: _Collector
) -> None:
    """Rules that involve more than one key, run only on keys whose own values are valid."""
    train, model, hardware = sections["train"], sections["model"], sections["hardware"]
    if engine == "sft" and tables["grpo"] is not None and not out.failed("engine"):
        hint = 'set engine = "grpo" to use it, or delete the table'
        out.add("grpo", tables["grpo"], 'ignored: engine is "sft"', hint, "warning")
    steps_known = not out.failed("train.epochs", "train.max_steps")
    if steps_known and train.epochs == 0 and train.max_steps == 0:
        out.add("train.epochs", 0.0, "must be > 0 when max_steps = 0 (nothing to train)")
    if model.quantization != "none" and tables["lora"] is None:  # absent, or lora = false
        message = "a quantized model trains only through LoRA adapters (QLoRA)"
        hint = 'add a [lora] table, or set quantization = "none" for a full fine-tune'
        out.add("model.quantization", model.quantization, message, hint, catalog_id=QLORA_CAUSE)
    memory_known = not out.failed("hardware.gpu_memory_gib", "hardware.reserve_gib")
    if memory_known and 0 < hardware.gpu_memory_gib <= hardware.reserve_gib:
        message = f"must be less than gpu_memory_gib ({hardware.gpu_memory_gib:g})"
        out.add("hardware.reserve_gib", hardware.reserve_gib, message + ": nothing left to train")
    _check_launch(tables["launch"], sections["launch"], tables["hardware"], out)
    batch_keys = ("train.batch_size", "train.grad_accum", "grpo.num_generations", "grpo")
    launch_keys = ("launch.where", "launch.hosts", "launch.nodes", "launch.gpus_per_node")
    if engine == "grpo" and not out.failed(*batch_keys, "hardware.gpus", *launch_keys):
        launch = sections["launch"]
        processes = (
            hardware.gpus if launch.where == "local" else launch.machines * launch.per_machine
        )
        _check_grpo_batch(train, sections["grpo"], processes, out)


_SLURM_KEYS = ("partition", "nodes", "gpus_per_node", "time", "account", "sbatch")
_SSH_KEYS = ("hosts", "gpus_per_host")


def _check_launch(
    table: Mapping[str, Any] | None,
    launch: LaunchSection,
    hardware: Mapping[str, Any] | None,
    out: _Collector,
) -> None:
    """A launch that names no machine is refused; keys for another `where` are said unused."""
    if not table or out.failed("launch.where"):
        return
    if launch.where == "ssh" and not launch.hosts and not out.failed("launch.hosts"):
        hint = 'add hosts = ["gpu1", "gpu2"] (names from ~/.ssh/config; the first runs rank 0)'
        out.add(
            "launch.hosts", MISSING, 'required when where = "ssh": the machines to train on', hint
        )
    unused = {"local": (*_SSH_KEYS, *_SLURM_KEYS), "ssh": _SLURM_KEYS, "slurm": _SSH_KEYS}
    for key in unused[launch.where]:
        if key in table and getattr(launch, key) != getattr(LaunchSection(), key):
            message = f'ignored: where = "{launch.where}"'
            out.add(f"launch.{key}", table[key], message, None, "warning")
    if launch.where != "local" and hardware and hardware.get("gpus", 1) != 1:
        per = "gpus_per_host" if launch.where == "ssh" else "gpus_per_node"
        message = f'ignored when where = "{launch.where}": launch.{per} says how many per machine'
        out.add("hardware.gpus", hardware["gpus"], message, f"set launch.{per} instead", "warning")


def _check_grpo_batch(train: Any, grpo: GrpoSection, gpus: int | str, out: _Collector) -> None:
    """TRL refuses a batch that splits a group of completions (with "auto" GPUs the process
    count is known only at launch: pre-flight checks it then)."""
    if not isinstance(gpus, int):
        return
    broken = grpo_batch_rule(train.batch_size, train.grad_accum, gpus, grpo.num_generations)
    if broken is not None:
        out.add("grpo.num_generations", grpo.num_generations, *broken, catalog_id=GRPO_BATCH_CAUSE)


def profile_to_raw(profile: Profile) -> dict[str, Any]:
    """The TOML-ready dict of a profile, in file order; [lora]/[grpo] left out when None."""
    raw: dict[str, Any] = {
        "name": profile.name,
        "description": profile.description,
        "engine": profile.engine,
    }
    for name in SECTIONS:
        section = getattr(profile, name)
        if section is not None:
            raw[name] = {f.name: _plain(getattr(section, f.name)) for f in fields(section)}
    return raw


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
