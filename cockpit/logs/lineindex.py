"""Where each line of a log starts, kept sparse: one checkpoint per ~64 KB of file.

Recording every line start costs 8 bytes a line and, worse, a Python-level step per line
while indexing (a third of the time to index a 200 MB log). Counting line breaks is done
at memory speed by `bytes.count`, so the index keeps only checkpoints — a line start and
its line number every `BLOCK` bytes — and finds the exact starts inside one block when a
line there is asked for (a 64 KB read; the last few blocks asked for are cached).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from cockpit.logtext import Encoding

BLOCK = 64 * 1024
_CACHED_BLOCKS = 16
_NEWLINE = re.compile(b"\n")


def line_starts_in(data: bytes, encoding: Encoding, base: int) -> array:
    """File offsets (`data` read from `base`, a code-unit boundary) just past each line
    break in `data`: the starts of the lines that follow."""
    if not encoding.wide:
        return array("q", (base + m.end() for m in _NEWLINE.finditer(data)))
    found = re.finditer(re.escape(encoding.newline), data)
    return array("q", (base + m.end() for m in found if m.start() % 2 == 0))


def _breaks(data: bytes, encoding: Encoding, start: int, end: int) -> int:
    if not encoding.wide:
        return data.count(b"\n", start, end)
    return len(line_starts_in(data[start:end], encoding, start))


def _next_break_end(data: bytes, encoding: Encoding, start: int) -> int:
    """The offset just past the first line break at or after `start`, or -1."""
    at = data.find(encoding.newline, start)
    while encoding.wide and at >= 0 and at % 2:
        at = data.find(encoding.newline, at + 1)
    return -1 if at < 0 else at + len(encoding.newline)


@dataclass(frozen=True)
class Checkpoints:
    """What one slice of whole lines adds to the index (computed off the UI thread)."""

    offsets: array
    """File offsets of line starts, one per ~BLOCK bytes, the slice's start first."""
    lines: array
    """The 0-based line number starting at each of `offsets`."""
    breaks: int
    """Line breaks in the slice."""


def checkpoints_in(body: bytes, encoding: Encoding, base: int, first_line: int) -> Checkpoints:
    """Checkpoints of `body` (whole lines read from file offset `base`, which starts line
    `first_line`)."""
    offsets, lines = array("q", [base]), array("q", [first_line])
    position, line = 0, first_line
    while True:
        cut = _next_break_end(body, encoding, position + BLOCK)
        if cut < 0 or cut >= len(body):
            break
        line += _breaks(body, encoding, position, cut)
        offsets.append(base + cut)
        lines.append(line)
        position = cut
    line += _breaks(body, encoding, position, len(body))
    return Checkpoints(offsets, lines, line - first_line)


class LineIndex:
    """The start of every line of a file indexed up to `end`, looked up on demand.

    `read(offset, length)` reads the file; `len()` counts line starts: the lines ended by a
    line break, plus the one starting at `end` (the unfinished tail, possibly empty).
    """

    def __init__(self, read: Callable[[int, int], bytes], encoding: Encoding) -> None:
        self._read = read
        self._encoding = encoding
        self._offsets = array("q", [0])
        self._lines = array("q", [0])
        self.end = 0
        """Offset just past the last line break indexed: where the tail starts."""
        self._count = 1
        self._blocks: OrderedDict[int, array] = OrderedDict()

    def __len__(self) -> int:
        return self._count

    def add(self, slice_: Checkpoints, end: int) -> None:
        """Append a slice that starts at the current `end` and ends (past a break) at `end`."""
        if not slice_.breaks:
            return
        start = 0 if slice_.offsets[0] > self._offsets[-1] else 1
        self._offsets.extend(slice_.offsets[start:])
        self._lines.extend(slice_.lines[start:])
        self._count += slice_.breaks
        self.end = end

    def start(self, line: int) -> int:
        """The file offset where 0-based `line` (0 <= line < len()) starts."""
        if line >= self._count - 1:
            return self.end
        block = bisect_right(self._lines, line) - 1
        starts, nth = self._starts(block), line - self._lines[block]
        return starts[nth] if nth < len(starts) else starts[-1]  # the file shrank meanwhile

    def line_at(self, offset: int) -> int:
        """The 0-based line holding file offset `offset`."""
        if offset >= self.end:
            return self._count - 1
        block = bisect_right(self._offsets, offset) - 1
        return self._lines[block] + bisect_right(self._starts(block), offset) - 1

    def _starts(self, block: int) -> array:
        """Every line start in checkpoint `block`'s stretch of the file, its own first."""
        starts = self._blocks.get(block)
        if starts is not None:
            self._blocks.move_to_end(block)
            return starts
        begin = self._offsets[block]
        finish = self._offsets[block + 1] if block + 1 < len(self._offsets) else self.end
        data = self._read(begin, finish - begin)
        starts = array("q", [begin])
        starts.extend(s for s in line_starts_in(data, self._encoding, begin) if s < finish)
        if len(data) < finish - begin:
            return starts  # the file shrank meanwhile: not kept
        self._blocks[block] = starts
        if len(self._blocks) > _CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return starts
