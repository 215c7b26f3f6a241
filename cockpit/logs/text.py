"""Bytes of a log line to text a person can read.

Logs arrive in any state: NUL bytes, GBK from a Chinese-locale Windows console, ANSI
colours, tqdm's ``\\r`` updates, one enormous line. Decoding is per line and best effort,
so one bad line never spoils the rest of the file and nothing here raises.
"""

from __future__ import annotations

import re

MAX_DISPLAY_CHARS = 4000
"""Characters of one line shown; the rest is summarised as ``… (+N characters)``."""

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def decode(data: bytes) -> str:
    """Text of `data`: UTF-8, else GBK (Windows/Chinese consoles), else UTF-8 with �."""
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gbk")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace")


def looks_binary(head: bytes) -> bool:
    """True when the first bytes of a file are mostly not text (an image, a checkpoint…)."""
    if not head:
        return False
    if head.count(b"\x00") > len(head) // 100:
        return True
    text_bytes = sum(head.count(bytes([b])) for b in (9, 10, 13)) + sum(1 for b in head if b >= 32)
    return text_bytes < len(head) * 0.9


def display_line(text: str) -> str:
    """What a terminal would show for one logged line, capped at MAX_DISPLAY_CHARS.

    The last ``\\r`` segment wins (tqdm redraws), colours are dropped, other control
    characters become ``·`` and tabs are expanded.
    """
    if "\r" in text:
        pieces = [piece for piece in text.split("\r") if piece.strip()]
        text = pieces[-1] if pieces else ""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    text = _CONTROL.sub("·", text.expandtabs(4))
    extra = len(text) - MAX_DISPLAY_CHARS
    if extra > 0:
        text = f"{text[:MAX_DISPLAY_CHARS]}… (+{extra:,} characters)"
    return text
