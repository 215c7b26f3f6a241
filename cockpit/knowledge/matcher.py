"""Scan logs for known causes from the catalog.

Logs are big and mostly boring, so the scan works on bytes in two passes: one
multi-pattern search (Aho-Corasick, SIMD-accelerated) for every entry's literal keywords
finds the few candidate lines at memory speed, and only those lines are decoded,
normalised (quote, numbering and timestamp prefixes removed, tqdm ``\\r`` updates split)
and tried against the full signatures. Entries are tried in catalog order, so the first
(most specific) cause wins a line, and a cause is reported once per region rather than
once per traceback line.

A file is scanned in chunks, so memory stays flat however large the log is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from cockpit.knowledge.catalog import Entry, entries
from cockpit.logs.text import decode
from cockpit.redact import redact
from engines.protocol import open_regular

REGION_LINES = 30
"""A cause seen again within this many lines belongs to the same finding."""
EXCERPT_CHARS = 240
CHUNK_BYTES = 16 * 1024 * 1024

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


@cache
def _finder(catalog: tuple[Entry, ...]):
    """A function giving the start offsets of anchor hits in lower-cased bytes."""
    anchors = _anchors(catalog)
    try:
        import ahocorasick_rs
    except ImportError:  # pragma: no cover - a platform without its wheel: slower, same result
        return lambda data: _find_each(data, anchors)
    automaton = ahocorasick_rs.BytesAhoCorasick(list(anchors))
    return lambda data: [start for _, start, _ in automaton.find_matches_as_indexes(data)]


def _find_each(data: bytes, anchors: tuple[bytes, ...]) -> list[int]:
    """One bytes.find pass per anchor, skipping the rest of a line after a hit."""
    positions: list[int] = []
    for anchor in anchors:
        start = data.find(anchor)
        while start >= 0:
            positions.append(start)
            end = data.find(b"\n", start)
            start = -1 if end < 0 else data.find(anchor, end)
    return positions


def _cause(piece: str, catalog: Sequence[Entry]) -> Entry | None:
    lowered = piece.lower()
    for entry in catalog:
        if not any(word in lowered for word in entry.keywords):
            continue
        if any(sig.search(piece) for sig in entry.signatures):
            return entry
    return None


def _excerpt(piece: str) -> str:
    short = piece if len(piece) <= EXCERPT_CHARS else piece[:EXCERPT_CHARS] + "…"
    return redact(short)


class ChunkScanner:
    """Finds known causes in a log fed as consecutive byte chunks.

    Chunks should end at a line break (a line cut in two is matched as two pieces);
    `first_line` is the 1-based number of the chunk's first line.
    """

    def __init__(self, catalog: tuple[Entry, ...] | None = None) -> None:
        self.catalog = entries() if catalog is None else catalog
        self._find = _finder(self.catalog)
        self._last_seen: dict[str, int] = {}

    def feed(self, chunk: bytes, first_line: int) -> list[Match]:
        """The new findings in `chunk`, in line order."""
        lowered = chunk.lower()
        found: list[Match] = []
        line, counted_to, previous_start = first_line, 0, -1
        for pos in sorted(self._find(lowered)):
            start = lowered.rfind(b"\n", 0, pos) + 1
            if start == previous_start:
                continue
            line += lowered.count(b"\n", counted_to, start)
            counted_to = previous_start = start
            end = lowered.find(b"\n", pos)
            found.extend(self._line(chunk[start : None if end < 0 else end], line))
        return found

    def _line(self, raw: bytes, number: int) -> list[Match]:
        found: list[Match] = []
        for piece in normalise(decode(raw)):
            entry = _cause(piece, self.catalog)
            if entry is None:
                continue
            previous = self._last_seen.get(entry.id)
            self._last_seen[entry.id] = number
            if previous is not None and number - previous <= REGION_LINES:
                continue
            found.append(
                Match(entry.id, entry.title, entry.severity, number, _excerpt(piece), entry.fix)
            )
        return found


def scan_bytes(data: bytes, catalog: tuple[Entry, ...] | None = None) -> list[Match]:
    """Known causes in a whole log held in memory."""
    return ChunkScanner(catalog).feed(data.replace(b"\r\n", b"\n"), 1)


def scan_text(text: str, catalog: tuple[Entry, ...] | None = None) -> list[Match]:
    """Known causes in `text` (lines split on ``\\n``), in line order."""
    return scan_bytes(text.encode("utf-8", "surrogatepass"), catalog)


def scan_lines(lines: Iterable[str], catalog: tuple[Entry, ...] | None = None) -> list[Match]:
    """Known causes in a sequence of lines (line numbers are 1-based positions)."""
    return scan_text("\n".join(line.rstrip("\n") for line in lines), catalog)


def iter_chunks(handle, chunk_bytes: int = CHUNK_BYTES) -> Iterable[bytes]:
    """Consecutive chunks of a binary file, each ending at a line break where possible."""
    carry = b""
    while True:
        block = handle.read(chunk_bytes)
        if not block:
            break
        data = carry + block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) < 4 * chunk_bytes:  # one huge line: keep reading, within reason
                carry = data
                continue
            cut = len(data)
        carry = data[cut:]
        yield data[:cut]
    if carry:
        yield carry


def scan_file(
    path: str | os.PathLike[str], catalog: tuple[Entry, ...] | None = None
) -> list[Match]:
    """Known causes in the log at `path`, read in chunks; raises OSError if unreadable, or
    not a regular file (a FIFO or a device would hang the scan or never end)."""
    scanner = ChunkScanner(catalog)
    found: list[Match] = []
    line = 1
    with open_regular(path) as handle:
        for chunk in iter_chunks(handle):
            found.extend(scanner.feed(chunk, line))
            line += chunk.count(b"\n")
    return found
