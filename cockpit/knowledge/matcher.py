"""Scan logs for known causes from the catalog.

Logs are big and mostly boring, so the scan works on bytes in two passes: one
multi-pattern search (Aho-Corasick, SIMD-accelerated) for every entry's literal keywords
finds the few candidate lines at memory speed, and only those lines are decoded,
normalised (quote, numbering and timestamp prefixes removed, tqdm ``\\r`` updates split)
and tried against the full signatures. Entries are tried in catalog order, so the first
(most specific) cause wins a line, and a cause is reported once per region rather than
once per traceback line.

Failures no cause explains (tracebacks, killed processes, fatal error lines) are found
the same way: their first lines hold keywords too, and only while one is being read (or
watched for a few hundred lines after) are the lines in between decoded one by one
(`cockpit.knowledge.unrecognized`). Call :meth:`ChunkScanner.finish` at the end of the
data: a failure is settled only once it is known whether the log went on after it.

A file is scanned in chunks, so memory stays flat however large the log is; a UTF-16
file is turned into UTF-8 chunk by chunk on the way in.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from cockpit.knowledge.catalog import Entry, entries
from cockpit.knowledge.findings import Failure, Match
from cockpit.knowledge.unrecognized import VERSION_ANCHORS, FailureTracker
from cockpit.logtext import decode, detect_encoding, utf8_reader
from cockpit.redact import redact
from engines.protocol import open_regular

__all__ = ["ChunkScanner", "Failure", "Match", "normalise", "scan_file", "scan_lines", "scan_text"]

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
FAILURE_ANCHORS = (
    "traceback (most recent call",
    "error:",
    "[error]",
    "error -",
    "| error",
    "error 0",  # vLLM's "ERROR 05-20 12:00:00 [core.py:1] …"
    "error 1",
    "nccl error",
    "bus error",
    "exception ignored",
    "point exception",
    "killed",
    "segmentation fault",
    "core dumped",
    "aborted",
    "illegal instruction",
    "terminate called",
    "*** sig",
    "exitcode",
    "exit code",
    "exit status",
    "return code",
    "died with",
    "cublas_status",
)
"""Lowered words that start a failure the catalog may not know. Specific on purpose: a
word as common as "error" would make every line of a log with an ``eval_error`` metric a
candidate, and candidates cost a hundred times what the byte search does."""


def normalise(line: str) -> list[str]:
    """The logical pieces of one physical line: tqdm updates split, prefixes removed."""
    pieces = line.split("\r") if "\r" in line else [line]
    return [_PREFIX.sub("", piece, count=1).strip() for piece in pieces if piece.strip()]


@cache
def _anchors(catalog: tuple[Entry, ...]) -> tuple[bytes, ...]:
    """The fewest keywords such that every keyword contains one of them."""
    words = {word for entry in catalog for word in entry.keywords}
    words.update(FAILURE_ANCHORS, VERSION_ANCHORS)
    return tuple(sorted(w.encode() for w in words if not any(o != w and o in w for o in words)))


@cache
def _finder(catalog: tuple[Entry, ...]):
    """A function giving the start offsets of anchor hits in lower-cased bytes."""
    anchors = _anchors(catalog)
    try:
        import ahocorasick_rs
    except ImportError:  # pragma: no cover - a platform without its wheel: slower, same result
        return lambda data: _find_each(data, anchors)
    # A DFA: ~2x the default automaton's speed with the catalog's hundreds of keywords
    # (past a few dozen patterns the SIMD prefilter no longer applies); a few MB of memory.
    implementation = getattr(getattr(ahocorasick_rs, "Implementation", None), "DFA", None)
    options = {"implementation": implementation} if implementation is not None else {}
    automaton = ahocorasick_rs.BytesAhoCorasick(list(anchors), **options)
    return lambda data: _search_halves(automaton.find_matches_as_indexes, data)


_PARALLEL_BYTES = 1024 * 1024
_helper: ThreadPoolExecutor | None = None


def _search_halves(search, data: bytes) -> list[int]:
    """Start offsets of the automaton's hits, the two halves of a large chunk searched on
    two cores at once (the automaton releases the GIL; anchors hold no line break, so
    cutting at one splits no hit)."""
    global _helper
    cut = data.find(b"\n", len(data) // 2) + 1 if len(data) > _PARALLEL_BYTES else 0
    if cut <= 0:
        return [start for _, start, _ in search(data)]
    if _helper is None:
        _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cockpit-scan")
    view = memoryview(data)
    later = _helper.submit(search, view[cut:])
    found = [start for _, start, _ in search(view[:cut])]
    found.extend(cut + start for _, start, _ in later.result())
    return found


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
    """Finds known causes and unrecognized errors in a log fed as consecutive byte chunks.

    Chunks should end at a line break (a line cut in two is matched as two pieces);
    `first_line` is the 1-based number of the chunk's first line. Given a catalog of its
    own (a few entries, in tests), it reports only those causes: a failure outside a
    partial catalog is not "unrecognized".
    """

    def __init__(self, catalog: tuple[Entry, ...] | None = None) -> None:
        self.catalog = entries() if catalog is None else catalog
        self.unrecognized = catalog is None
        self._find = _finder(self.catalog)
        self._last_seen: dict[str, int] = {}
        self._failures = FailureTracker()
        self._last_chunk: tuple[bytes, int] = (b"", 1)
        """The last chunk fed and its first line: the log's last line is counted from it
        only when needed (counting every chunk's lines would cost a pass over it)."""

    def feed(self, chunk: bytes, first_line: int) -> list[Match]:
        """The new findings in `chunk`, in line order (failures settled by it included)."""
        lowered = chunk.lower()
        starts = self._candidates(lowered)
        found: list[Match] = []
        line, counted_to, cursor, index = first_line, 0, 0, 0
        while cursor < len(chunk):
            while index < len(starts) and starts[index] < cursor:
                index += 1
            if self._failures.active:
                start = cursor  # a failure is being read: every line counts
            elif index < len(starts):
                start = starts[index]
            else:
                break
            line += lowered.count(b"\n", counted_to, start)
            counted_to = start
            end = lowered.find(b"\n", start)
            end = len(chunk) if end < 0 else end
            candidate = index < len(starts) and starts[index] == start
            found.extend(self._line(chunk[start:end], line, candidate))
            cursor = end + 1
        self._last_chunk = (chunk, first_line)
        return sorted(found, key=lambda match: match.line)

    def finish(self) -> list[Match]:
        """The failures still unsettled at the end of the data (call once, at the end)."""
        chunk, first_line = self._last_chunk
        self._last_chunk = (b"", first_line)
        return self._failures.finish(first_line + chunk.count(b"\n") - chunk.endswith(b"\n"))

    def peek(self, chunk: bytes = b"", first_line: int = 0) -> list[Match]:
        """What `feed(chunk)` and then `finish()` would add, leaving this scanner as it is
        (a viewer's unfinished last line, and failures not settled yet)."""
        other = self.copy()
        found = other.feed(chunk, first_line) if chunk else []
        return sorted(found + other.finish(), key=lambda match: match.line)

    def copy(self) -> ChunkScanner:
        """An independent scanner in this one's state."""
        other = copy.copy(self)
        other._last_seen = dict(self._last_seen)
        other._failures = self._failures.copy()
        return other

    def _candidates(self, lowered: bytes) -> list[int]:
        """The start offsets of lines holding an anchor, in order, each once."""
        starts: list[int] = []
        for pos in sorted(self._find(lowered)):
            start = lowered.rfind(b"\n", 0, pos) + 1
            if not starts or starts[-1] != start:
                starts.append(start)
        return starts

    def _line(self, raw: bytes, number: int, candidate: bool) -> list[Match]:
        text = decode(raw)
        found: list[Match] = []
        if candidate:
            found = self._known(text, number)
            self._failures.note_versions(text)
        if self.unrecognized:
            found += self._failures.line(text, number)
        return found

    def _known(self, text: str, number: int) -> list[Match]:
        found: list[Match] = []
        for piece in normalise(text):
            entry = _cause(piece, self.catalog)
            if entry is None:
                continue
            self._failures.known(number, entry.severity)
            previous = self._last_seen.get(entry.id)
            self._last_seen[entry.id] = number
            if previous is not None and number - previous <= REGION_LINES:
                continue
            found.append(
                Match(entry.id, entry.title, entry.severity, number, _excerpt(piece), entry.fix)
            )
        return found


def scan_bytes(data: bytes, catalog: tuple[Entry, ...] | None = None) -> list[Match]:
    """Known causes and unrecognized errors in a whole log held in memory."""
    scanner = ChunkScanner(catalog)
    found = scanner.feed(data.replace(b"\r\n", b"\n"), 1)
    return sorted(found + scanner.finish(), key=lambda match: match.line)


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
    """Known causes and unrecognized errors in the log at `path` (UTF-8, a legacy code
    page or UTF-16), read in chunks; raises OSError if unreadable, or not a regular file
    (a FIFO or a device would hang the scan or never end)."""
    scanner = ChunkScanner(catalog)
    found: list[Match] = []
    line = 1
    with open_regular(path) as handle:
        encoding = detect_encoding(handle.read(8192))
        handle.seek(0)
        for chunk in iter_chunks(utf8_reader(handle, encoding)):
            found.extend(scanner.feed(chunk, line))
            line += chunk.count(b"\n")
    return sorted(found + scanner.finish(), key=lambda match: match.line)
