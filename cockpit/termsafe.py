"""Untrusted text made safe to print on a terminal: control characters shown, never sent.

Logs, profile names, run ids, paths and engine messages come from files anyone may have
written, and a terminal obeys the control sequences in them: ESC[2J clears the screen,
OSC 52 sets the clipboard, OSC 0 the window title, BEL rings, U+009B is a one-byte CSI.
Everything cockpit prints from such text goes through `safe()` (or `safe_json()` for
`--json`), which shows each control character escaped: C0 in caret notation (`^[` for ESC,
`^G` for BEL), DEL as `^?`, C1 as `\\x9b`. Standard library only.
"""

from __future__ import annotations

import json
from typing import Any

_KEEP = "\n\t"


def _table(keep: str) -> dict[int, str]:
    table = {code: "^" + chr(code + 64) for code in range(0x20)}
    table[0x7F] = "^?"
    table.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})
    for char in keep:
        table.pop(ord(char), None)
    return table


_TEXT = _table(_KEEP)
_LINE = _table("")
# In JSON text, C0 is already escaped by json.dumps; DEL and C1 become \u escapes.
_JSON = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0))}


def safe(text: object) -> str:
    """`text` with every control character but newline and tab shown escaped."""
    return str(text).translate(_TEXT)


def safe_line(text: object) -> str:
    """`text` for one line of output (a table cell): newlines and tabs escaped too."""
    return str(text).translate(_LINE)


def escapes() -> dict[int, str]:
    """Each control character `safe` escapes (all but newline and tab), and how it is shown."""
    return dict(_TEXT)


def safe_json(value: Any, **options: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, **options)` with no raw DEL or C1 inside."""
    return json.dumps(value, ensure_ascii=False, **options).translate(_JSON)
