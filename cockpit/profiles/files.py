"""The bytes-and-text side of profile files: the messages a user sees when one is unreadable.

Each message names the file, says what is wrong (with line and column where there is
one) and how to fix it. Kept apart from the store so the wording can grow without
crowding the file operations.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MAX_PROFILE_BYTES = 1 << 20
"""A profile is a few hundred bytes; anything over 1 MiB is the wrong file (a dataset?)."""

_TOML_POSITION = re.compile(
    r"^(?P<msg>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)
_TOML_HINTS = (
    ("Invalid value", 'text needs double quotes (name = "my-run"); numbers and true/false do not'),
    ("Expected '=' after a key", "each setting is one line: key = value"),
    ("Cannot declare", "this table appears twice: merge the two [table] sections"),
    ("Cannot overwrite", "a key appears twice: keep one of them"),
    ("Unclosed", "a list, string or { } is not closed"),
    ("Unterminated", "a string is not closed: add the closing quote"),
    ("Invalid statement", "a line here is not key = value or a [table] header"),
    ("Illegal character", "a string is not closed on this line, or a character needs escaping"),
    ("Expected ']'", "a [table] header or a list is missing its closing ]"),
)


def read_profile_text(path: Path) -> tuple[str | None, str | None]:
    """(text, None) or (None, a message saying why the file cannot be read as a profile)."""
    try:
        if path.is_dir():
            return None, f"{path} is a directory, not a profile file: choose a .toml file in it"
        if path.stat().st_size > MAX_PROFILE_BYTES:
            return None, f"{path} is over 1 MiB, too large to be a profile: is it the right file?"
        data = path.read_bytes()
    except FileNotFoundError:
        return None, f"{path}: no such file; `cockpit profiles` lists the profiles it knows"
    except PermissionError:
        return None, (
            f"cannot read {path}: permission denied; check its permissions (ls -l) or copy it "
            "to a folder you own"
        )
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    try:
        return data.decode("utf-8-sig"), None  # a BOM (Windows Notepad) is harmless
    except UnicodeDecodeError as exc:
        return None, _not_utf8(path, data, exc.start)


def _not_utf8(path: Path, data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return (
        f"{path} is not UTF-8 text (byte 0x{data[offset]:02x} at line {line}, column {column}); "
        "TOML files must be UTF-8: re-save it as UTF-8 in your editor, or convert it, e.g. "
        f"iconv -f gbk -t utf-8 {path.name} > fixed.toml"
    )


def toml_error_message(exc: ValueError, text: str, path: Path) -> str:
    """tomllib's error as 'FILE, line L, column C: what; how to fix', with the line shown."""
    raw = str(exc).strip()
    match = _TOML_POSITION.match(raw)
    what = match.group("msg") if match else raw
    line = getattr(exc, "lineno", None) or (int(match["line"]) if match and match["line"] else None)
    col = getattr(exc, "colno", None) or (int(match["col"]) if match and match["col"] else None)
    where = f"line {line}, column {col}" if line and col else "at the end of the file"
    hint = next((h for key, h in _TOML_HINTS if what.startswith(key)), "see https://toml.io")
    message = f"{path}, {where}: not valid TOML: {what}; {hint}"
    lines = text.splitlines()
    if line and col and line <= len(lines):
        prefix = f"  {line} | "
        message += f"\n{prefix}{lines[line - 1]}\n{' ' * (len(prefix) + col - 1)}^"
    return message


_TOML_SCALARS = (str, bool, int, float, _dt.datetime, _dt.date, _dt.time)


def unserialisable(value: Any, key: str = "") -> tuple[str, Any] | None:
    """The first (dotted key, value) that TOML cannot hold, or None when all can."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            path = f"{key}.{k}" if key else str(k)
            if not isinstance(k, str):
                return path, k
            found = unserialisable(v, path)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = unserialisable(item, f"{key}[{i}]")
            if found:
                return found
        return None
    return None if isinstance(value, _TOML_SCALARS) else (key, value)
