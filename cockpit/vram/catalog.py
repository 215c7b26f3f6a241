"""The built-in model catalog (catalog.toml) and the id matching that finds an entry.

Users write hub ids in many spellings of the same architecture: `unsloth/…`,
`…-bnb-4bit`, `…-Instruct`, `Meta-Llama-…`. They all reduce to one key, so any of them
finds the entry; an unknown id gets the closest keys as suggestions.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cockpit.vram.specs import ModelSpec, ResolvedModel, spec_from_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
# Suffixes that name a packaging or a fine-tuned variant of the same architecture.
_SUFFIXES = (
    "-unsloth-bnb-4bit",
    "-bnb-4bit",
    "-bnb-8bit",
    "-4bit",
    "-8bit",
    "-gguf",
    "-hf",
    "-it",
    "-pt",
    "-base",
    "-instruct",
    "-chat",
)
_INFIXES = re.compile(r"-(instruct|chat|base)(?=-)")


@dataclass(frozen=True)
class CatalogEntry:
    """One catalog model: its canonical hub id, spec, source and published size."""

    id: str
    spec: ModelSpec
    source: str
    published_params: float
    aliases: tuple[str, ...] = ()


def model_key(name: str) -> str:
    """The matching key: "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit" -> "llama-3.1-8b"."""
    key = name.strip().lower().replace("_", "-").rsplit("/", 1)[-1]
    key = key.removeprefix("meta-")
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, changed = key[: -len(suffix)], True
    return _INFIXES.sub("", key)


def _entry(raw: dict[str, Any]) -> CatalogEntry:
    return CatalogEntry(
        id=str(raw["id"]),
        spec=spec_from_config(dict(raw["config"]), str(raw["id"])),
        source=str(raw["source"]),
        published_params=float(raw.get("params", 0.0)),
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
    )


@cache
def entries() -> tuple[CatalogEntry, ...]:
    """All catalog entries, in file order."""
    with open(CATALOG_FILE, "rb") as handle:
        data = tomllib.load(handle)
    return tuple(_entry(raw) for raw in data.get("model", ()))


@cache
def _index() -> dict[str, CatalogEntry]:
    index: dict[str, CatalogEntry] = {}
    for entry in entries():
        for name in (entry.id, *entry.aliases):
            index.setdefault(model_key(name), entry)
    return index


def lookup(name: str) -> ResolvedModel | None:
    """The catalog's spec for a hub id (any usual spelling), or None."""
    entry = _index().get(model_key(name))
    if entry is None:
        return None
    return ResolvedModel(entry.spec, f"catalog: {entry.source}")


def close_matches(name: str, limit: int = 5) -> list[str]:
    """Canonical ids of the catalog entries whose keys look most like `name`."""
    index = _index()
    keys = difflib.get_close_matches(model_key(name), list(index), n=limit, cutoff=0.5)
    seen: list[str] = []
    for key in keys:
        if index[key].id not in seen:
            seen.append(index[key].id)
    return seen
