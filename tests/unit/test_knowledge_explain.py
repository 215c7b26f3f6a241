"""`cockpit explain`: exit codes, output shapes, and logs in any state never raise."""

# ruff: noqa: E501  (verbatim log lines are long)

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from cockpit.cli.explain import explain_main
from cockpit.logtext import decode

OOM = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"


def _write(tmp_path: Path, data: bytes, name: str = "out.log") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_error_log_exits_1_with_line_title_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, f"step 1\nstep 2\n{OOM}\n".encode())
    assert explain_main(path, as_json=False) == 1
    out = capsys.readouterr().out
    assert "line 3" in out
    assert "CUDA out of memory" in out
    assert "gradient_accumulation_steps" in out


def test_json_output_keys_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, f"a\n{OOM} hf_AbCdEfGhIjKlMnOpQrStUvWx\n".encode())
    assert explain_main(path, as_json=True) == 1
    data = json.loads(capsys.readouterr().out)
    assert [set(item) for item in data] == [{"id", "title", "severity", "line", "excerpt", "fix"}]
    assert (data[0]["id"], data[0]["line"], data[0]["severity"]) == ("cuda_oom", 2, "error")
    assert "hf_AbCdEf" not in data[0]["excerpt"]


def test_clean_log_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, b"{'loss': 1.2, 'epoch': 0.1}\n")
    assert explain_main(path, as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_missing_path_and_directory_exit_2_with_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert explain_main(str(tmp_path / "nope.log"), as_json=False) == 2
    assert "No such file" in capsys.readouterr().err
    assert explain_main(str(tmp_path), as_json=True) == 2
    err = capsys.readouterr().err
    assert "directory" in err


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, OOM.encode())
    os.chmod(path, 0)
    assert explain_main(path, as_json=False) == 2
    assert "Permission denied" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0),
        (bytes(range(256)) * 64, 0),
        (f"\x00\x00{OOM}\x00\n".encode(), 1),
        (b"\xff\xfe broken utf8 \xc3\n" + OOM.encode(), 1),
        (
            "训练开始\nUnicodeEncodeError: 'gbk' codec can't encode character '\\u2705' in position 0\n".encode(
                "gbk"
            ),
            1,
        ),
        (f"step 1\r\n{OOM}\r\n".encode(), 1),
        (b"x" * (10 * 1024 * 1024), 0),
    ],
    ids=["empty", "binary", "nul", "invalid-utf8", "gbk", "crlf", "10mb-line"],
)
def test_bad_inputs_never_raise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, expected: int
) -> None:
    path = _write(tmp_path, data)
    assert explain_main(path, as_json=True) == expected
    json.loads(capsys.readouterr().out)


def test_gbk_log_is_decoded_readably() -> None:
    text = decode("训练开始：第 1 步\n".encode("gbk"))
    assert "训练开始" in text


def test_crlf_line_numbers_and_clean_excerpt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, f"one\r\ntwo\r\n{OOM}\r\n".encode())
    explain_main(path, as_json=True)
    item = json.loads(capsys.readouterr().out)[0]
    assert item["line"] == 3
    assert not item["excerpt"].endswith("\r")


def test_gbk_console_prints_excerpts_without_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    console = io.TextIOWrapper(io.BytesIO(), encoding="gbk")
    monkeypatch.setattr(sys, "stdout", console)
    path = _write(tmp_path, f"█▌ ✅ {OOM}\n".encode())
    assert explain_main(path, as_json=False) == 1
    console.flush()
    assert b"CUDA out of memory" in console.buffer.getvalue()


HOSTILE = (
    "\x1b[2J\x1b[H"  # clear the screen
    "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: set the clipboard
    "\x1b]0;pwned\x1b\\"  # OSC 0: set the window title
    "\x07\x7f"  # BEL, DEL
    "\x9b31m"  # C1 CSI
)
RAW_CONTROLS = ("\x1b", "\x07", "\x7f", "\x9b")


def test_control_sequences_in_a_log_are_shown_escaped_never_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, f"{OOM} {HOSTILE}end\n".encode())
    assert explain_main(path, as_json=False) == 1
    out = capsys.readouterr().out
    assert not [c for c in RAW_CONTROLS if c in out]
    assert "^[[2J^[[H^[]52;c;cm0gLXJmIH4=^G^[]0;pwned^[\\^G^?\\x9b31mend" in out


def test_json_escapes_control_characters_and_keeps_them_as_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, f"{OOM} {HOSTILE}end\n".encode())
    assert explain_main(path, as_json=True) == 1
    out = capsys.readouterr().out
    assert not [c for c in RAW_CONTROLS if c in out]
    assert "\\u009b31m" in out and "\\u001b]52;c;" in out
    assert json.loads(out)[0]["excerpt"].endswith(f"{HOSTILE}end")
