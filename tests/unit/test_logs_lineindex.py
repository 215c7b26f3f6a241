"""The sparse line index gives the same line starts as recording every one of them."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.logs import lineindex
from cockpit.logs.lineindex import LineIndex, checkpoints_in, line_starts_in
from cockpit.logtext import UTF8, Encoding

UTF16 = Encoding("utf-16-le")
lines = st.lists(st.text(alphabet="ab\u0a00\u00e9 ", max_size=40), max_size=60)


@pytest.fixture
def monkeypatch_block(monkeypatch):
    """Blocks of a few bytes, so small examples cross many checkpoints."""
    monkeypatch.setattr(lineindex, "BLOCK", 8)


def _build(data: bytes, encoding: Encoding, chunk_lines: int) -> LineIndex:
    """An index of `data` fed as slices of `chunk_lines` lines, as the viewer reads it."""
    index = LineIndex(lambda offset, length: data[offset : offset + length], encoding)
    starts = [0, *line_starts_in(data, encoding, 0)]
    for first in range(0, len(starts) - 1, chunk_lines):
        begin, end = starts[first], starts[min(first + chunk_lines, len(starts) - 1)]
        index.add(checkpoints_in(data[begin:end], encoding, begin, first), end)
    return index


def _check(data: bytes, encoding: Encoding, chunk_lines: int) -> None:
    exact = [0, *line_starts_in(data, encoding, 0)]
    index = _build(data, encoding, chunk_lines)
    assert len(index) == len(exact)
    assert [index.start(n) for n in range(len(exact))] == exact
    for n, start in enumerate(exact[:-1]):
        assert index.line_at(start) == n
        assert index.line_at(exact[n + 1] - 1) == n


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines, st.integers(1, 7), st.sampled_from([UTF8, UTF16]))
def test_every_line_start_matches_the_full_list(monkeypatch_block, body, chunk_lines, encoding):
    text = "".join(line + "\n" for line in body)
    _check(text.encode(encoding.name), encoding, chunk_lines)


def test_a_utf16_character_holding_a_newline_byte_is_not_a_line_break(monkeypatch_block):
    # U+0A00 is b"\x00\x0a" in UTF-16 LE: a \n byte at an odd offset, not a line break.
    data = "a\u0a00\u0a00b\nc\n\u0a00\n".encode("utf-16-le")
    _check(data, UTF16, chunk_lines=1)
    _check(data, UTF16, chunk_lines=3)


def test_one_checkpoint_per_block_keeps_a_million_lines_small():
    data = b"step 1 loss 0.5\n" * 1_000_000
    slice_ = checkpoints_in(data, UTF8, 0, 0)
    assert slice_.breaks == 1_000_000
    assert (
        len(data) // (2 * lineindex.BLOCK) < len(slice_.offsets) <= len(data) // lineindex.BLOCK + 1
    )
