"""Scan log text for known causes from the catalog.

Logs are big and mostly boring, so the scan works in two passes: one combined regex of
every entry's literal keywords finds the few candidate lines in the whole text at C
speed, and only those lines are normalised (quote, numbering and timestamp prefixes
removed, tqdm ``\\r`` updates split) and tried against the full signatures. Entries are
tried in catalog order, so the first (most specific) cause wins a line, and a cause is
reported once per region rather than once per traceback line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from cockpit.knowledge.catalog import Entry, entries
from cockpit.knowledge.redact import redact

REGION_LINES = 30
"""A cause seen again within this many lines belongs to the same finding."""
EXCERPT_CHARS = 240

_PREFIX = re.compile(
    r"^(?:\s*(?:>+\s?"  # quoted
    r"|\[\s*\d+\s*\]\s"  # [1745] numbering
    r"|\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s*"
    r"|\[\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]\s*"  # [12:00:01]
    r"|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\s+"
    r"|(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL)\s*[:|-]?\s*"
    r"))+"
)


@dataclass(frozen=True)
class Match:
    """A known cause found at a line of a log."""

    id: str
    title: str
    severity: str
    line: int
    """1-based line number in the scanned text."""
    excerpt: str
    """The matching line, normalised and redacted."""
    fix: str


def normalise(line: str) -> list[str]:
    """The logical pieces of one physical line: tqdm updates split, prefixes removed."""
    pieces = line.split("\r") if "\r" in line else [line]
    return [_PREFIX.sub("", piece, count=1).strip() for piece in pieces if piece.strip()]


@cache
def _anchors(catalog: tuple[Entry, ...]) -> tuple[bytes, ...]:
    """The fewest keywords such that every keyword contains one of them."""
    words = {word for entry in catalog for word in entry.keywords}
    return tuple(sorted(w.encode() for w in words if not any(o != w and o in w for o in words)))


def _cause(piece: str, catalog: Sequence[Entry]) -> Entry | None:
    lowered = piece.lower()
    for entry in catalog:
        if not any(word in lowered for word in entry.keywords):
            continue
        if any(sig.search(piece) for sig in entry.signatures):
            return entry
    return None


def _candidate_lines(text: str, catalog: tuple[Entry, ...]) -> list[int]:
    """0-based indexes of lines holding any keyword.

    bytes.find per anchor runs at memory speed, far faster than one big alternation
    regex; keywords are ASCII, so lowering the UTF-8 bytes is enough.
    """
    data = text.encode("utf-8", "surrogatepass").lower()
    positions: list[int] = []
    for anchor in _anchors(catalog):
        start = data.find(anchor)
        while start >= 0:
            positions.append(start)
            end = data.find(b"\n", start)
            start = -1 if end < 0 else data.find(anchor, end)
    if not positions:
        return []
    newlines = [m.start() for m in re.finditer(b"\n", data)]
    return sorted({bisect_right(newlines, pos) for pos in positions})


def _excerpt(piece: str) -> str:
    short = piece if len(piece) <= EXCERPT_CHARS else piece[:EXCERPT_CHARS] + "…"
    return redact(short)


def scan_text(text: str, catalog: tuple[Entry, ...] | None = None) -> list[Match]:
    """Known causes in `text` (lines split on ``\\n``), in line order."""
    catalog = entries() if catalog is None else catalog
    candidates = _candidate_lines(text, catalog)
    if not candidates:
        return []
    lines = text.split("\n")
    last_seen: dict[str, int] = {}
    found: list[Match] = []
    for index in candidates:
        for piece in normalise(lines[index]):
            entry = _cause(piece, catalog)
            if entry is None:
                continue
            previous = last_seen.get(entry.id)
            last_seen[entry.id] = index
            if previous is not None and index - previous <= REGION_LINES:
                continue
            found.append(
                Match(entry.id, entry.title, entry.severity, index + 1, _excerpt(piece), entry.fix)
            )
    return found


def scan_lines(lines: Iterable[str], catalog: tuple[Entry, ...] | None = None) -> list[Match]:
    """Known causes in a sequence of lines (line numbers are 1-based positions)."""
    return scan_text("\n".join(line.rstrip("\n") for line in lines), catalog)
