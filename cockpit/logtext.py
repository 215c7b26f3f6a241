"""Bytes of a log line to text a person can read.

Logs arrive in any state: NUL bytes, GBK from a Chinese-locale Windows console, ANSI
colours, tqdm's ``\\r`` updates, one enormous line. Decoding is per line and best effort,
so one bad line never spoils the rest of the file and nothing here raises.

A whole file may also be UTF-16 (Windows PowerShell's ``>`` and ``Tee-Object`` write
UTF-16LE with a byte-order mark): :func:`detect_encoding` tells from the first bytes, and
:func:`to_utf8` turns whole lines of such a file into UTF-8, which is what the matcher's
byte scan and :func:`decode` expect. Line breaks keep their count, so line numbers agree.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import BinaryIO

MAX_DISPLAY_CHARS = 4000
"""Characters of one line shown; the rest is summarised as ``… (+N characters)``."""

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


_SAMPLE_BYTES = 1024
"""Bytes of a file's head whose NUL pattern tells UTF-16 from UTF-8."""


@dataclass(frozen=True)
class Encoding:
    """How a whole log file is encoded: UTF-8 (or a legacy code page) or UTF-16."""

    name: str
    """A Python codec name: "utf-8", "utf-16-le" or "utf-16-be"."""
    bom: int = 0
    """Bytes of byte-order mark at the start of the file."""

    @property
    def unit(self) -> int:
        """Bytes per code unit: a line break starts at a multiple of this."""
        return 2 if self.wide else 1

    @property
    def wide(self) -> bool:
        return self.name.startswith("utf-16")

    @property
    def newline(self) -> bytes:
        """The bytes of a line break in this encoding."""
        return "\n".encode(self.name) if self.wide else b"\n"


UTF8 = Encoding("utf-8")


def detect_encoding(head: bytes) -> Encoding:
    """The encoding of a file starting with `head`: UTF-16 LE/BE with or without a BOM,
    UTF-8 with a BOM, else UTF-8 (decoded per line, with the GBK fallback)."""
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", 3)
    for bom, name in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        sample = head[2 : 2 + _SAMPLE_BYTES]
        if head.startswith(bom) and _looks_utf16(sample, name, strict=False):
            return Encoding(name, 2)
    for name in ("utf-16-le", "utf-16-be"):
        if _looks_utf16(head[:_SAMPLE_BYTES], name, strict=True):
            return Encoding(name)
    return UTF8


def _looks_utf16(sample: bytes, name: str, *, strict: bool) -> bool:
    """ASCII text in UTF-16 has a NUL in every code unit's high byte and none in the low.

    `strict` (no BOM to go by) wants most code units to be such ASCII; with a BOM a few
    are enough (CJK text has NULs only in its spaces, digits and line breaks).
    """
    sample = sample[: len(sample) // 2 * 2]
    units = len(sample) // 2
    if units < 2:
        return False
    high, low = (
        (sample[1::2], sample[0::2]) if name == "utf-16-le" else (sample[0::2], sample[1::2])
    )
    high_nuls, low_nuls = high.count(0), low.count(0)
    if strict and (high_nuls < units * 0.3 or low_nuls > units * 0.02):
        return False
    if not strict and (high_nuls == 0 or low_nuls > high_nuls):
        return False
    text = sample.decode(name, errors="replace")
    readable = sum(ch.isprintable() or ch in "\t\r\n" for ch in text)
    return readable >= len(text) * 0.9


def to_utf8(data: bytes, encoding: Encoding) -> bytes:
    """Bytes of a file in `encoding` as UTF-8 (UTF-8 input is returned as it is).

    Give whole lines (or a cut at an even offset): a code unit or surrogate pair cut in
    two becomes U+FFFD.
    """
    if not encoding.wide:
        return data
    return data.decode(encoding.name, errors="replace").encode("utf-8")


def utf8_reader(handle: BinaryIO, encoding: Encoding) -> BinaryIO:
    """`handle` (at the start of the file) read as UTF-8 bytes: itself when it already is."""
    return _Utf8Reader(handle, encoding) if encoding.wide else handle


class _Utf8Reader:
    """A UTF-16 file read as UTF-8 bytes; units and surrogates cut by a read are kept."""

    def __init__(self, handle: BinaryIO, encoding: Encoding) -> None:
        self._handle = handle
        self._handle.read(encoding.bom)
        self._decoder = codecs.getincrementaldecoder(encoding.name)(errors="replace")

    def read(self, size: int = -1) -> bytes:
        while True:
            raw = self._handle.read(size)
            text = self._decoder.decode(raw, final=not raw)
            if text or not raw:
                return text.encode("utf-8")


def decode(data: bytes) -> str:
    """Text of `data`: UTF-8, else GBK (Windows/Chinese consoles), else UTF-8 with �.

    A leading byte-order mark (the first line of a file written with one) is dropped.
    """
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gbk")
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def looks_binary(head: bytes) -> bool:
    """True when the first bytes of a file are mostly not text (an image, a checkpoint…);
    UTF-16 text is text."""
    if not head:
        return False
    if detect_encoding(head).wide:
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
