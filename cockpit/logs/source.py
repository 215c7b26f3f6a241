"""A log file opened for viewing: a line index built in chunks, lines read on demand.

Nothing of the file is kept in memory but the start offset of each line (8 bytes a
line) and the findings, so a 200 MB log costs tens of MB, not hundreds. Indexing is
split in two so a viewer can run the heavy half in a thread: :meth:`LogFile.index_chunk`
only reads the file, :meth:`LogFile.apply` updates the index (call it from one thread).

Following copes with what happens to logs: appends, truncation (``> log``), rotation
(the path now names a new file) and deletion (what was read stays on screen).
"""

from __future__ import annotations

import os
import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.knowledge.matcher import ChunkScanner, Match
from cockpit.logs.text import decode, looks_binary
from engines.protocol import NotRegularFileError, open_regular_fd

CHUNK_BYTES = 4 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
"""Bytes of one line read for display; a longer line is shown cut with its full size."""
_NEWLINE = re.compile(b"\n")


def _rest_of_line(fd: int, data: bytes, offset: int, block: int) -> bytes:
    """`data` extended up to and including the next line break (or the end of the file)."""
    pieces = [data]
    while True:
        more = os.pread(fd, block, offset)
        if not more:
            break
        pieces.append(more)
        offset += len(more)
        if b"\n" in more:
            break
    return b"".join(pieces)


class LogOpenError(Exception):
    """A log cannot be opened; the message names the problem and what to do."""


@dataclass(frozen=True)
class Chunk:
    """What one slice of the file adds to the index."""

    generation: int
    """Which opening of the file it was read from (rotation and truncation reopen it)."""
    start: int
    end: int
    """Byte offset just past the slice's last line break."""
    scanned_to: int
    """Byte offset just past what was read: beyond `end` only by an unfinished last line."""
    line_starts: array
    findings: list[Match] = field(default_factory=list)


def open_error(path: Path, exc: OSError) -> LogOpenError:
    """A readable reason for a log that cannot be opened."""
    if isinstance(exc, FileNotFoundError):
        return LogOpenError(f"{path}: no such file. Check the path, or `cockpit runs` for runs.")
    if isinstance(exc, IsADirectoryError):
        return LogOpenError(f"{path} is a directory; open a log file inside it (output.log).")
    if isinstance(exc, PermissionError):
        return LogOpenError(f"{path}: permission denied. Check its owner and mode (ls -l).")
    if isinstance(exc, NotRegularFileError):
        return LogOpenError(f"{path} is {exc.strerror}; open a log file.")
    return LogOpenError(f"{path}: cannot read it ({exc.strerror or exc}).")


class LogFile:
    """One log file, indexed incrementally; line numbers here are 0-based."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = -1
        self._open()

    def _open(self) -> None:
        try:
            fd = open_regular_fd(self.path)  # a FIFO or a device: refused, never waited on
        except OSError as exc:
            raise open_error(self.path, exc) from exc
        info = os.fstat(fd)
        self.close()
        self.generation = getattr(self, "generation", 0) + 1
        self._fd, self._inode = fd, (info.st_dev, info.st_ino)
        self.size = info.st_size
        self.deleted = False
        self.binary = looks_binary(os.pread(fd, 8192, 0))
        self.line_starts = array("q", [0])
        """Start offset of every line; the last one starts the unfinished tail."""
        self._scanned_to = 0
        """Bytes read by the index, an unfinished last line (no line break yet) included."""
        self.findings: list[Match] = []
        self.tail_findings: list[Match] = []
        """Findings of the unfinished last line (redone as it grows)."""
        self._scanner = ChunkScanner()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @property
    def indexed_to(self) -> int:
        """Bytes indexed: up to and including the last line break seen."""
        return self.line_starts[-1]

    @property
    def complete(self) -> bool:
        """Every line is indexed; only an unfinished last line may be left (it has no line
        break to index yet, and is scanned as the tail)."""
        return max(self.indexed_to, self._scanned_to) >= self.size

    @property
    def progress(self) -> float:
        """How far indexing got, 0.0 to 1.0 (1.0 when complete)."""
        if self.complete or not self.size:
            return 1.0
        return max(self.indexed_to, self._scanned_to) / self.size

    @property
    def line_count(self) -> int:
        """Lines known so far, the unfinished tail (text without a line break yet) included."""
        tail = self.size > self.indexed_to
        return len(self.line_starts) - 1 + tail

    @property
    def all_findings(self) -> list[Match]:
        return self.findings + self.tail_findings

    def next_chunk(self, max_bytes: int = CHUNK_BYTES) -> Chunk:
        """Index the whole lines of the next slice (reads only; may run in another thread).

        A single line longer than `max_bytes` is read on until its end. Raises OSError if
        the file was closed meanwhile.
        """
        generation, fd, start = self.generation, self._fd, self.indexed_to
        first_line = len(self.line_starts)
        data = os.pread(fd, max_bytes, start)
        if data and b"\n" not in data:
            data = _rest_of_line(fd, data, start + len(data), max_bytes)
        cut = data.rfind(b"\n") + 1
        body = data[:cut]
        starts = array("q", (start + m.end() for m in _NEWLINE.finditer(body)))
        findings = self._scanner.feed(body, first_line) if body else []
        return Chunk(generation, start, start + cut, start + len(data), starts, findings)

    def apply(self, chunk: Chunk) -> bool:
        """Add an indexed chunk; False if it no longer fits (the file was reset meanwhile)."""
        if chunk.generation != self.generation or chunk.start != self.indexed_to:
            return False
        self.line_starts.extend(chunk.line_starts)
        self.findings.extend(chunk.findings)
        self._scanned_to = max(self._scanned_to, chunk.scanned_to)
        self._scan_tail()
        return True

    def index_all(self, max_bytes: int = CHUNK_BYTES) -> None:
        """Index everything there is now, `max_bytes` at a time (tests, small files)."""
        while not self.complete:
            chunk = self.next_chunk(max_bytes)
            if not self.apply(chunk) or chunk.end == chunk.start:
                break  # only an unfinished tail is left (or nothing, the file shrank)

    def _scan_tail(self) -> None:
        """Scan the unfinished last line; whole lines not indexed yet are left to the index."""
        self.tail_findings = []
        if self.size <= self.indexed_to:
            return
        raw = os.pread(self._fd, min(self.size - self.indexed_to, MAX_LINE_BYTES), self.indexed_to)
        if b"\n" not in raw:
            scanner = ChunkScanner(self._scanner.catalog)
            self.tail_findings = scanner.feed(raw, len(self.line_starts))

    def line_bytes(self, index: int) -> tuple[bytes, int]:
        """Raw bytes of line `index` (at most MAX_LINE_BYTES) and its full length."""
        if index < 0 or index >= self.line_count:
            return b"", 0
        start = self.line_starts[index]
        end = self.line_starts[index + 1] - 1 if index + 1 < len(self.line_starts) else self.size
        length = max(end - start, 0)
        try:
            data = os.pread(self._fd, min(length, MAX_LINE_BYTES), start)
        except OSError:
            return b"", length
        return data.rstrip(b"\r"), length

    def line(self, index: int) -> str:
        """Decoded text of line `index` (cut at MAX_LINE_BYTES)."""
        return decode(self.line_bytes(index)[0])

    def poll(self) -> str | None:
        """Look at the path again: "grew", "truncated", "replaced", "deleted" or None."""
        try:
            info = os.stat(self.path)
        except OSError:
            if self.deleted:
                return None
            self.deleted = True
            return "deleted"
        if (info.st_dev, info.st_ino) != self._inode:
            try:
                self._open()
            except LogOpenError:
                return None  # the new file is not readable yet: try again next time
            return "replaced"
        self.deleted = False
        if info.st_size < self.indexed_to:
            self._open()
            return "truncated"
        if info.st_size != self.size:
            self.size = info.st_size
            self._scan_tail()
            return "grew"
        return None

    def find(self, needle: str, from_line: int, backwards: bool = False) -> int | None:
        """The next (or previous) line after `from_line` containing `needle`.

        Searched on the raw bytes in chunks, ignoring ASCII case.
        """
        wanted = needle.encode("utf-8").lower()
        if not wanted or self.line_count == 0:
            return None
        if backwards:
            return self._find_backwards(wanted, from_line)
        offset = self._start_of(from_line + 1)
        while offset < self.size:
            data = os.pread(self._fd, CHUNK_BYTES + len(wanted), offset).lower()
            hit = data.find(wanted)
            if hit >= 0:
                return bisect_right(self.line_starts, offset + hit) - 1
            if not data:
                break
            offset += CHUNK_BYTES
        return None

    def _find_backwards(self, wanted: bytes, from_line: int) -> int | None:
        end = self._start_of(min(from_line, self.line_count))
        while end > 0:
            start = max(end - CHUNK_BYTES, 0)
            hit = os.pread(self._fd, end - start, start).lower().rfind(wanted)
            if hit >= 0:
                return bisect_right(self.line_starts, start + hit) - 1
            # `end` starts a line, so no match crosses it; overlap only the cut at `start`.
            end = start + len(wanted) - 1 if start else 0
        return None

    def _start_of(self, index: int) -> int:
        if index >= len(self.line_starts):
            return self.size
        return self.line_starts[max(index, 0)]
