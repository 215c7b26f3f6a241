"""A log file opened for viewing: a line index built in chunks, lines read on demand.

Nothing of the file is kept in memory but a sparse line index (one checkpoint per 64 KB,
see `lineindex`) and the findings, so a 200 MB log costs tens of MB, not hundreds. Indexing is
split in two so a viewer can run the heavy half in a thread: :meth:`LogFile.next_chunk`
only reads the file, :meth:`LogFile.apply` updates the index (call it from one thread).

Following copes with what happens to logs: appends, truncation (``> log``), rotation
(the path now names a new file) and deletion (what was read stays on screen).

A UTF-16 file (Windows PowerShell's ``>`` and ``Tee-Object``) is read in place: the index
holds offsets into the file itself, line breaks are found on code-unit boundaries, and
each slice is turned into UTF-8 as it is read, for the scanner and for display. Reading in
place rather than transcoding into a temporary copy once keeps following, rotation and
search working on the real file, costs no disk (a log may be hundreds of MB), and adds no
file to clean up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cockpit.knowledge.matcher import ChunkScanner, Match
from cockpit.logs.lineindex import Checkpoints, LineIndex, checkpoints_in
from cockpit.logtext import UTF8, Encoding, decode, detect_encoding, looks_binary, to_utf8
from engines.protocol import NotRegularFileError, open_regular_fd

CHUNK_BYTES = 4 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
"""Bytes of one line read for display; a longer line is shown cut with its full size."""


def _has_break(data: bytes, encoding: Encoding) -> bool:
    if not encoding.wide:
        return b"\n" in data
    return _last_break(data, encoding) > 0


def _last_break(data: bytes, encoding: Encoding) -> int:
    """The offset just past the last line break in `data`, or 0."""
    if not encoding.wide:
        return data.rfind(b"\n") + 1
    at = data.rfind(encoding.newline)
    while at >= 0 and at % 2:
        at = data.rfind(encoding.newline, 0, at + 1)
    return at + 2 if at >= 0 else 0


def _rest_of_line(fd: int, data: bytes, offset: int, block: int, encoding: Encoding) -> bytes:
    """`data` extended up to and including the next line break (or the end of the file)."""
    pieces = [data]
    while True:
        more = os.pread(fd, block, offset)
        if not more:
            break
        pieces.append(more)
        offset += len(more)
        if _has_break(more, encoding):
            break
    return b"".join(pieces)


def _aligned_find(data: bytes, wanted: bytes, base: int, unit: int, backwards: bool = False) -> int:
    """The first (or last) hit of `wanted` in `data` (read from file offset `base`) that
    starts on a code-unit boundary, or -1."""
    hit = data.rfind(wanted) if backwards else data.find(wanted)
    while hit >= 0 and (base + hit) % unit:
        if backwards:
            hit = data.rfind(wanted, 0, hit + len(wanted) - 1)
        else:
            hit = data.find(wanted, hit + 1)
    return hit


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
    lines: Checkpoints
    findings: list[Match]
    scanner: ChunkScanner
    """The scanner as it stands after this slice (its own copy: the tail and failures not
    settled yet are judged from it on the applying thread)."""

    @property
    def next_line(self) -> int:
        """The 1-based number of the line just after this slice."""
        return self.lines.lines[0] + 1 + self.lines.breaks


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
        head = os.pread(fd, 8192, 0)
        self.encoding = detect_encoding(head) if head else UTF8
        """UTF-8 (or a legacy code page, decoded per line) or UTF-16, from the first bytes."""
        self.binary = looks_binary(head)
        self.line_starts = LineIndex(self._read, self.encoding)
        """Start offset of every line; the last one starts the unfinished tail."""
        self._scanned_to = 0
        """Bytes read by the index, an unfinished last line (no line break yet) included."""
        self.findings: list[Match] = []
        self.tail_findings: list[Match] = []
        """Findings of the unfinished last line and failures not settled yet (a traceback
        at the end may still turn out handled): redone as the file grows."""
        self._settled = ChunkScanner()
        """The scanner's state after the last applied slice."""

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    @property
    def indexed_to(self) -> int:
        """Bytes indexed: up to and including the last line break seen."""
        return self.line_starts.end

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
        """Every finding so far, in line order."""
        return sorted(self.findings + self.tail_findings, key=lambda match: match.line)

    def next_chunk(self, max_bytes: int = CHUNK_BYTES, after: Chunk | None = None) -> Chunk:
        """Index the whole lines of the next slice (reads only; may run in another thread).

        The slice follows `after` (a chunk read but maybe not applied yet, so a reader can
        run ahead of the thread applying), or else what is applied. A single line longer
        than `max_bytes` is read on until its end. Raises OSError if the file was closed
        meanwhile.
        """
        generation, fd, encoding = self.generation, self._fd, self.encoding
        if after is None:
            start, first_line, scanner = self.indexed_to, len(self.line_starts), self._settled
        else:
            start, first_line, scanner = after.end, after.next_line, after.scanner
        scanner = scanner.copy()  # the one given stays as it was: apply() keeps it
        block = max(max_bytes - max_bytes % encoding.unit, encoding.unit)
        data = os.pread(fd, block, start)
        if data and not _has_break(data, encoding):
            data = _rest_of_line(fd, data, start + len(data), block, encoding)
        cut = _last_break(data, encoding)
        body = data[:cut]
        lines = checkpoints_in(body, encoding, start, first_line - 1)
        findings = scanner.feed(to_utf8(body, encoding), first_line) if body else []
        return Chunk(generation, start, start + cut, start + len(data), lines, findings, scanner)

    def apply(self, chunk: Chunk) -> bool:
        """Add an indexed chunk; False if it no longer fits (the file was reset meanwhile)."""
        if chunk.generation != self.generation or chunk.start != self.indexed_to:
            return False
        self.line_starts.add(chunk.lines, chunk.end)
        self.findings.extend(chunk.findings)
        self._settled = chunk.scanner
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
        """Scan the unfinished last line, with the failures not settled yet; whole lines not
        indexed yet are left to the index."""
        raw = b""
        if self.size > self.indexed_to:
            length = min(self.size - self.indexed_to, MAX_LINE_BYTES)
            raw = os.pread(self._fd, length, self.indexed_to)
            raw = b"" if _has_break(raw, self.encoding) else to_utf8(raw, self.encoding)
        self.tail_findings = self._settled.peek(raw, len(self.line_starts))

    def line_bytes(self, index: int) -> tuple[bytes, int]:
        """Bytes of line `index` (at most MAX_LINE_BYTES of the file, as UTF-8 when the file
        is UTF-16) and its full length in the file."""
        if index < 0 or index >= self.line_count:
            return b"", 0
        unit = self.encoding.unit
        try:
            start = self.line_starts.start(index)
            has_next = index + 1 < len(self.line_starts)
            end = self.line_starts.start(index + 1) - unit if has_next else self.size
        except OSError:
            return b"", 0
        length = max(end - start, 0)
        try:
            data = os.pread(self._fd, min(length, MAX_LINE_BYTES), start)
        except OSError:
            return b"", length
        return to_utf8(data, self.encoding).rstrip(b"\r"), length

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

        Searched on the raw bytes in chunks (in the file's encoding), ignoring ASCII case.
        """
        wanted = needle.encode(self.encoding.name, errors="replace").lower()
        if not wanted or self.line_count == 0:
            return None
        if backwards:
            return self._find_backwards(wanted, from_line)
        offset = self._start_of(from_line + 1)
        while offset < self.size:
            data = os.pread(self._fd, CHUNK_BYTES + len(wanted), offset).lower()
            hit = _aligned_find(data, wanted, offset, self.encoding.unit)
            if hit >= 0:
                return self.line_starts.line_at(offset + hit)
            if not data:
                break
            offset += CHUNK_BYTES
        return None

    def find_wrapping(
        self, needle: str, from_line: int, backwards: bool = False
    ) -> tuple[int | None, bool]:
        """`find`, then again from the other end when nothing is left in that direction (as
        less and vim do): the line (None when `needle` is nowhere) and whether it wrapped."""
        line = self.find(needle, from_line, backwards=backwards)
        if line is not None:
            return line, False
        line = self.find(needle, self.line_count if backwards else -1, backwards=backwards)
        return line, line is not None

    def _find_backwards(self, wanted: bytes, from_line: int) -> int | None:
        end = self._start_of(min(from_line, self.line_count))
        while end > 0:
            start = max(end - CHUNK_BYTES, 0)
            data = os.pread(self._fd, end - start, start).lower()
            hit = _aligned_find(data, wanted, start, self.encoding.unit, backwards=True)
            if hit >= 0:
                return self.line_starts.line_at(start + hit)
            # `end` starts a line, so no match crosses it; overlap only the cut at `start`.
            end = start + len(wanted) - 1 if start else 0
        return None

    def _start_of(self, index: int) -> int:
        if index >= len(self.line_starts):
            return self.size
        return self.line_starts.start(max(index, 0))
