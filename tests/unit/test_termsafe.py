"""Untrusted text reaches the terminal with its control characters shown, never obeyed."""

from __future__ import annotations

import json

import pytest

from cockpit.termsafe import safe, safe_json, safe_line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "^[[2J"),
        ("\x1b]52;c;aGk=\x07", "^[]52;c;aGk=^G"),
        ("a\rb", "a^Mb"),
        ("\x00\x08\x7f", "^@^H^?"),
        ("\x9b31m \x85 \x80\x9f", "\\x9b31m \\x85 \\x80\\x9f"),
        ("line one\n\tline two", "line one\n\tline two"),
        ("plain ascii, é, 中文, ✓", "plain ascii, é, 中文, ✓"),
    ],
)
def test_control_characters_are_escaped_and_text_is_kept(raw: str, shown: str) -> None:
    assert safe(raw) == shown


def test_one_line_output_escapes_newlines_and_tabs_too() -> None:
    assert safe_line("run\n1\tx\x1b") == "run^J1^Ix^["


def test_json_has_no_raw_control_characters_and_round_trips() -> None:
    value = {"excerpt": "\x1b]0;title\x07 \x9b \x7f é"}
    text = safe_json(value, indent=2)
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in text)
    assert "é" in text
    assert json.loads(text) == value
