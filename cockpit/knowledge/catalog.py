"""The known-error catalog: load and validate ``catalog.toml``.

Causes are data, not code, so they can grow without touching the matcher. Loading
checks every entry once (fields present, severity known, regexes compile, keywords
lower-case) so a bad edit fails loudly in tests rather than silently never matching.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
SEVERITIES = ("error", "warning")
_TEXT_FIELDS = ("id", "title", "severity", "explanation", "fix")


class CatalogError(ValueError):
    """The catalog file has an invalid entry."""


@dataclass(frozen=True)
class Entry:
    """One known cause: how to recognise it and what to do about it."""

    id: str
    title: str
    severity: str
    keywords: tuple[str, ...]
    signatures: tuple[re.Pattern[str], ...]
    explanation: str
    fix: str
    doctor: tuple[str, ...]


def _compile(entry_id: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise CatalogError(f"{entry_id}: bad signature {pattern!r}: {exc}") from exc


def _entry(raw: dict[str, Any]) -> Entry:
    entry_id = str(raw.get("id", "?"))
    missing = [name for name in _TEXT_FIELDS if not raw.get(name)]
    if missing or not raw.get("signatures") or not raw.get("keywords"):
        raise CatalogError(f"{entry_id}: missing {missing or 'signatures/keywords'}")
    if raw["severity"] not in SEVERITIES:
        raise CatalogError(f"{entry_id}: severity must be one of {SEVERITIES}")
    keywords = tuple(raw["keywords"])
    if any(word != word.lower() or not word for word in keywords):
        raise CatalogError(f"{entry_id}: keywords must be non-empty and lower-case")
    return Entry(
        id=entry_id,
        title=raw["title"],
        severity=raw["severity"],
        keywords=keywords,
        signatures=tuple(_compile(entry_id, p) for p in raw["signatures"]),
        explanation=raw["explanation"].strip(),
        fix=raw["fix"].strip(),
        doctor=tuple(raw.get("doctor", ())),
    )


def load_entries(path: Path = CATALOG_FILE) -> tuple[Entry, ...]:
    """Entries of the catalog at `path`, in file order (specific causes first)."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    found = tuple(_entry(raw) for raw in data.get("entry", ()))
    ids = [entry.id for entry in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"duplicate ids: {duplicates}")
    return found


@cache
def entries() -> tuple[Entry, ...]:
    """The built-in catalog, loaded once."""
    return load_entries()


def by_id(entry_id: str) -> Entry | None:
    """The built-in entry with this id, or None."""
    return next((entry for entry in entries() if entry.id == entry_id), None)
