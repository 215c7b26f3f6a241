"""Logs in UTF-16 (Windows PowerShell's `>` and Tee-Object) and UTF-8 with a BOM read like
any other log: in `cockpit explain`, in the Logs place's index and in `cockpit report`."""

# ruff: noqa: E501  (verbatim log lines are long)

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from cockpit.cli.explain import explain_main
from cockpit.knowledge.matcher import scan_file
from cockpit.logs.source import LogFile
from cockpit.logtext import detect_encoding, looks_binary
from cockpit.report.build import build_report
from cockpit.report.log import tail_lines

OOM = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 7.62 GiB of which 1.06 GiB is free."
POWERSHELL_LOG = [
    "PS C:\\Users\\me\\train> python train.py --config qwen.yaml",
    "🦥 Unsloth: Will patch your computer to enable 2x faster free finetuning.",
    "训练开始 — données chargées",
    "  0%|          | 0/400 [00:00<?, ?it/s]",
    "Traceback (most recent call last):",
    '  File "C:\\Users\\me\\train\\train.py", line 80, in <module>',
    "    trainer.train()",
    OOM,
    "PS C:\\Users\\me\\train>",
]
OOM_LINE = 8
BOMS = {
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-8": codecs.BOM_UTF8,
}


def _write(path: Path, encoding: str, bom: bool, lines: list[str] = POWERSHELL_LOG) -> Path:
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes((BOMS[encoding] if bom else b"") + text.encode(encoding))
    return path


VARIANTS = [
    ("utf-16-le", True),
    ("utf-16-be", True),
    ("utf-16-le", False),
    ("utf-16-be", False),
    ("utf-8", True),
]
IDS = [f"{enc}{'-bom' if bom else ''}" for enc, bom in VARIANTS]


@pytest.mark.parametrize(("encoding", "bom"), VARIANTS, ids=IDS)
def test_the_encoding_is_told_from_the_first_bytes(
    tmp_path: Path, encoding: str, bom: bool
) -> None:
    data = _write(tmp_path / "a.log", encoding, bom).read_bytes()
    found = detect_encoding(data[:8192])
    assert (found.name, found.bom) == (encoding, len(BOMS[encoding]) if bom else 0)
    assert not looks_binary(data[:8192])


@pytest.mark.parametrize(
    "data",
    [
        b"plain ascii log\n",
        "训练开始 loss 2.5\n".encode("gbk") * 20,
        b"\xff\xfe broken utf8 \xc3\n" + OOM.encode(),  # FF FE then no UTF-16 at all
        b"\x00\x00" + OOM.encode() + b"\x00\n",  # a few NULs in UTF-8 text
        bytes(range(256)) * 8,
    ],
    ids=["ascii", "gbk", "fake-bom", "stray-nuls", "binary"],
)
def test_other_bytes_are_not_taken_for_utf16(data: bytes) -> None:
    assert detect_encoding(data).name == "utf-8"


@pytest.mark.parametrize(("encoding", "bom"), VARIANTS, ids=IDS)
def test_explain_finds_the_oom_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str, bom: bool
) -> None:
    path = _write(tmp_path / "ps.log", encoding, bom)
    assert explain_main(str(path), as_json=True) == 1
    found = json.loads(capsys.readouterr().out)
    assert [(m["id"], m["line"]) for m in found] == [("cuda_oom", OOM_LINE)]
    assert found[0]["excerpt"].startswith("torch.OutOfMemoryError: CUDA out of memory")


def test_a_powershell_log_reads_like_utf8_in_the_log_viewer(tmp_path: Path) -> None:
    path = _write(tmp_path / "ps.log", "utf-16-le", True)
    log = LogFile(path)
    log.index_all()
    assert not log.binary
    assert log.line_count == len(POWERSHELL_LOG)
    assert [log.line(i) for i in range(log.line_count)] == POWERSHELL_LOG
    assert [(m.id, m.line) for m in log.all_findings] == [("cuda_oom", OOM_LINE)]
    assert log.find("out of MEMORY", 0) == OOM_LINE - 1
    assert log.find("训练", OOM_LINE, backwards=True) == 2


@pytest.mark.parametrize("chunk", [64, 97, 4096])
def test_small_slices_index_utf16_the_same_as_one_pass(tmp_path: Path, chunk: int) -> None:
    lines = [f"step {i} 训练 🦥 loss 1.{i:03d}" for i in range(300)]
    lines[201] = OOM
    path = _write(tmp_path / "big.log", "utf-16-le", True, lines)
    log = LogFile(path)
    log.index_all(chunk)
    assert log.line_count == 300
    assert log.line(299) == lines[299] and log.line(150) == lines[150]
    assert [(m.id, m.line) for m in log.findings] == [("cuda_oom", 202)]


def test_following_a_utf16_log_indexes_what_is_appended(tmp_path: Path) -> None:
    path = _write(tmp_path / "tee.log", "utf-16-le", True, ["step 1", "step 2"])
    log = LogFile(path)
    log.index_all()
    with open(path, "ab") as out:
        out.write(f"step 3\r\n{OOM}\r\n".encode("utf-16-le"))
    assert log.poll() == "grew"
    log.index_all()
    assert [log.line(i) for i in range(log.line_count)] == ["step 1", "step 2", "step 3", OOM]
    assert [(m.id, m.line) for m in log.all_findings] == [("cuda_oom", 4)]


def test_an_unfinished_last_utf16_line_is_scanned(tmp_path: Path) -> None:
    path = tmp_path / "tee.log"
    path.write_bytes(codecs.BOM_UTF16_LE + f"step 1\r\n{OOM}".encode("utf-16-le"))
    log = LogFile(path)
    log.index_all()
    assert log.line(1) == OOM
    assert [(m.id, m.line) for m in log.all_findings] == [("cuda_oom", 2)]


def test_report_names_the_oom_of_a_powershell_log_and_shows_its_end_readable(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "ps.log", "utf-16-le", True)
    text = build_report(path, doctor_findings=[], now=0)
    assert "**Verdict:** CUDA out of memory (cuda_oom)" in text
    assert "binary" not in text
    assert tail_lines(path)[-2:] == [OOM, "PS C:\\Users\\me\\train>"]


def test_utf16_scan_agrees_with_the_utf8_scan_of_the_same_text(tmp_path: Path) -> None:
    lines = [*POWERSHELL_LOG[:4], "MyError: boom"]
    wide = scan_file(_write(tmp_path / "w.log", "utf-16-le", True, lines))
    narrow = scan_file(_write(tmp_path / "n.log", "utf-8", False, lines))
    assert wide == narrow and [m.id for m in wide] == ["unrecognized_error"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_code_unit_holding_a_line_feed_byte_does_not_break_a_line(
    tmp_path: Path, encoding: str
) -> None:
    lines = ["Ċ ਊ 㨊 items", "step 2", OOM]  # U+010A, U+0A0A, U+3A0A: a 0x0A byte each
    path = _write(tmp_path / "cu.log", encoding, True, lines)
    log = LogFile(path)
    log.index_all(6)
    assert [log.line(i) for i in range(log.line_count)] == lines
    assert [(m.id, m.line) for m in log.all_findings] == [("cuda_oom", 3)]
    assert log.find("ITEMS", 2, backwards=True) == 0
