"""LogFile: the chunked line index, on-demand lines, search, and what happens to followed files."""

from __future__ import annotations

import os

import pytest

from cockpit.logs.source import CHUNK_BYTES, MAX_LINE_BYTES, LogFile, LogOpenError
from cockpit.logtext import display_line, looks_binary


def _indexed(path, chunk: int = CHUNK_BYTES) -> LogFile:
    log = LogFile(path)
    log.index_all(chunk)
    return log


def test_small_chunks_index_the_same_lines_and_findings_as_one_pass(tmp_path):
    path = tmp_path / "a.log"
    body = [f"step {i} loss 1.{i:03d}" for i in range(500)]
    body[321] = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    whole, pieces = _indexed(path), _indexed(path, chunk=97)
    assert whole.line_count == pieces.line_count == 500
    assert [m.line for m in whole.findings] == [m.line for m in pieces.findings] == [322]
    assert pieces.line(321).startswith("torch.OutOfMemoryError")
    assert pieces.line(499) == "step 499 loss 1.499"


def test_an_unfinished_last_line_is_shown_and_scanned_until_it_is_finished(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"one\nRuntimeError: CUDA error: out of memory")
    log = _indexed(path)
    assert log.line_count == 2 and log.line(1).endswith("out of memory")
    assert [m.id for m in log.all_findings] == ["cuda_oom"]
    with open(path, "ab") as out:
        out.write(b"\nthree\n")
    assert log.poll() == "grew"
    log.index_all()
    assert log.line_count == 3
    assert [(m.id, m.line) for m in log.all_findings] == [("cuda_oom", 2)]  # not twice


def test_truncation_rotation_and_deletion_are_reported_once(tmp_path):
    path = tmp_path / "a.log"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    log = _indexed(path)
    assert log.poll() is None
    path.write_text("x\n", encoding="utf-8")
    assert log.poll() == "truncated"
    assert log.indexed_to == 0  # re-read from the start
    log.index_all()
    assert log.line(0) == "x"
    os.replace(path, tmp_path / "a.log.1")
    path.write_text("new\n", encoding="utf-8")
    assert log.poll() == "replaced"
    log.index_all()
    assert log.line(0) == "new"
    path.unlink()
    assert log.poll() == "deleted"
    assert log.poll() is None and log.deleted
    assert log.line(0) == "new"  # still readable through the open file


@pytest.mark.parametrize("backwards", [False, True])
def test_find_crosses_chunk_boundaries_and_ignores_ascii_case(tmp_path, monkeypatch, backwards):
    import cockpit.logs.source as source

    monkeypatch.setattr(source, "CHUNK_BYTES", 64)
    path = tmp_path / "a.log"
    lines = [f"line {i:04d} filler text" for i in range(200)]
    lines[150] = "Saving model CHECKPOINT to out/checkpoint-150"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log = _indexed(path)
    start = 199 if backwards else 0
    assert log.find("checkpoint", start, backwards=backwards) == 150
    assert log.find("checkpoint", 150, backwards=backwards) is None
    assert log.find("", 0) is None


def test_search_wraps_around_from_either_end_and_says_it_did(tmp_path):
    path = tmp_path / "a.log"
    lines = [f"step {i}" for i in range(300)]
    lines[40] = lines[260] = "WARNING: grad_norm is nan"
    path.write_text("\n".join(lines), encoding="utf-8")  # no final newline: last line too
    log = _indexed(path, chunk=97)
    assert log.find_wrapping("warning", 40) == (260, False)
    assert log.find_wrapping("warning", 260) == (40, True)  # past the end: from the top
    assert log.find_wrapping("warning", 40, backwards=True) == (260, True)
    assert log.find_wrapping("step 299", 299) == (299, True)  # the only match, on the cursor
    assert log.find_wrapping("step 0", 0, backwards=True) == (0, True)
    assert log.find_wrapping("absent", 10) == (None, False)


def test_a_huge_line_is_read_only_in_part_and_says_how_long_it_is(tmp_path):
    path = tmp_path / "a.log"
    path.write_bytes(b"y" * (3 * MAX_LINE_BYTES) + b"\nnext\n")
    log = _indexed(path, chunk=4096)
    raw, length = log.line_bytes(0)
    assert len(raw) == MAX_LINE_BYTES and length == 3 * MAX_LINE_BYTES
    assert log.line(1) == "next"
    assert "(+" in display_line(log.line(0))


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda d: d, "is a directory"),
        (lambda d: d / "nope.log", "no such file"),
    ],
)
def test_what_cannot_be_opened_is_named_with_what_to_do(tmp_path, make, words):
    with pytest.raises(LogOpenError, match=words):
        LogFile(make(tmp_path))


def test_display_keeps_the_last_tqdm_redraw_and_drops_colours_and_control_bytes():
    assert display_line(" 10%|#   | 1/10\r 20%|##  | 2/10\r") == " 20%|##  | 2/10"
    assert display_line("\x1b[31mred\x1b[0m\tok\x07") == "red ok·"


def test_binary_detection_spares_text_in_any_language():
    assert looks_binary(b"\x00\x01PK\x03\x04" * 100)
    assert not looks_binary("训练开始 loss 2.5\n".encode("gbk") * 50)
    assert not looks_binary("训练 ✓\r\n".encode() * 50)
    assert not looks_binary(b"")


@pytest.mark.parametrize("chunk", [CHUNK_BYTES, 1000, 7])
def test_a_file_without_a_final_newline_indexes_to_done(tmp_path, chunk):
    path = tmp_path / "a.log"
    path.write_bytes(b"".join(b"step %d loss 0.5\n" % i for i in range(300)) + b"last, no newline")
    log = _indexed(path, chunk)
    assert log.complete and log.progress == 1.0
    assert log.line_count == 301 and log.line(300) == "last, no newline"
    with open(path, "ab") as out:  # it grows: indexing has more to do, then is done again
        out.write(b" -- now finished\nand another tail")
    assert log.poll() == "grew"
    assert not log.complete and log.progress < 1.0
    log.index_all(chunk)
    assert log.complete and log.line_count == 302
    assert log.line(300) == "last, no newline -- now finished"
