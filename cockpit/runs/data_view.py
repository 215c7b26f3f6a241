"""The data check's report as plain pieces both faces draw: facts, the histogram, lines.

`cockpit data` (Rich) and the Data place (Textual) colour these the same way; here they
are only text and positions, so the layout is tested once and the two never disagree.
Every value that came from the data file goes through `shown()` (control characters
escaped, secrets redacted) before it reaches either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cockpit.redact import redact
from cockpit.termsafe import safe

BLOCKS = " ▁▂▃▄▅▆▇█"
"""Eighths of a cell, from empty to full."""
MARKER = "│"
LINES_SHOWN = 12
"""Line numbers listed under a finding before "and N more"."""


def shown(text: object) -> str:
    """Text from the user's files, safe to draw: secrets redacted, controls escaped."""
    return safe(redact(str(text)))


def size_text(size: int | None) -> str:
    """1234567 → "1.2 MB"; None → "n/a"."""
    if size is None:
        return "n/a"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def facts(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines about the file and what training gets from it."""
    mapping = report.get("mapping") or {}
    read = (
        f"{report.get('rows', 0)} rows · {size_text(report.get('size_bytes'))} · "
        f"{report.get('encoding') or 'n/a'} · {report.get('file_kind') or '?'}"
    )
    used = ", ".join(f"{c} → {r}" for c, r in mapping.items())
    unused = [c for c in report.get("columns") or [] if c not in mapping]
    if unused:
        used += ("; " if used else "") + "not used: " + ", ".join(unused)
    rows = [
        ("file", shown(report.get("source", ""))),
        ("read", read),
        (
            "format",
            f"{report.get('format') or 'unknown'} — "
            f"{shown(report.get('format_reason') or 'not detected')}",
        ),
        ("columns", shown(used or "none")),
    ]
    return rows + _training_facts(report)


def _training_facts(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    trainable = report.get("trainable")
    if trainable:
        per = trainable["per_row"]
        rows.append(
            (
                "trained",
                f"{trainable['total']:,} tokens ({trainable['trained_on']}); per row "
                f"min {per['min']}, median {per['p50']}, max {per['max']}; "
                f"{trainable['zero_rows']} rows with none",
            )
        )
    steps = report.get("steps_per_epoch")
    if steps is not None:
        text = f"{steps} optimizer steps per epoch ({report.get('examples_per_step')} rows a step)"
        if report.get("tokens_per_epoch") is not None:
            text += f", {report['tokens_per_epoch']:,} tokens read"
        if report.get("estimate_note"):
            text += f"; {shown(report['estimate_note'])}"
        rows.append(("steps", text))
    grpo = report.get("grpo")
    if grpo:
        for reward in grpo.get("rewards") or []:
            missing = reward.get("missing") or []
            state = f"missing {', '.join(missing)}" if missing else "columns present"
            needs = ", ".join(reward.get("needs") or []) or "no column"
            rows.append(("reward", f"{shown(reward['name'])} needs {shown(needs)}: {state}"))
    return rows


def lengths_line(lengths: Mapping[str, Any]) -> str:
    """ "p50 32 · p95 47 · max 58 tokens; 0 rows over 256 (0 tokens cut)"."""
    what = "prompt" if lengths.get("of") == "prompt" else "sequence"
    return (
        f"{what} tokens: p50 {lengths['p50']} · p95 {lengths['p95']} · max {lengths['max']}; "
        f"{lengths['over_limit']} rows over {lengths['limit']} "
        f"({lengths['tokens_lost']:,} tokens cut)"
    )


def offline_line(report: Mapping[str, Any]) -> str | None:
    """What is missing without a tokenizer, or None when there was one."""
    tokenizer = report.get("tokenizer") or {}
    if not tokenizer.get("offline"):
        return None
    return "No tokenizer on this machine: " + shown(tokenizer.get("note") or "")


def lines_text(item: Mapping[str, Any], limit: int = LINES_SHOWN) -> str:
    """ "lines 4, 5, 6 and 25 more" for a finding; "" when it names none."""
    lines = list(item.get("lines") or [])
    if not lines:
        return ""
    count = max(int(item.get("count") or 0), len(lines))
    listed = ", ".join(str(n) for n in lines[:limit])
    more = count - min(limit, len(lines))
    word = "line" if count == 1 else "lines"
    return f"{word} {listed}" + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class Chart:
    """A histogram drawn in block characters, top row first."""

    rows: list[str]
    marker: int | None
    """Column of the limit marker in each row (None when the limit is past every bin)."""
    axis: str
    """Token counts under the chart: 0, the limit under the marker, the last edge."""


def histogram_chart(lengths: Mapping[str, Any], width: int, height: int = 5) -> Chart:
    """The token-length histogram in at most `width` cells, a marker after the limit's bin."""
    bins = list(lengths.get("histogram") or [])
    limit = int(lengths.get("limit") or 0)
    if not bins:
        return Chart([], None, "")
    cell = max(1, (width - 1) // len(bins))
    tallest = max(b["count"] for b in bins) or 1
    split = next((i + 1 for i, b in enumerate(bins) if b["hi"] >= limit), None)
    rows = []
    for level in range(height, 0, -1):
        cells = [_block(b["count"], tallest, height, level) * cell for b in bins]
        if split is not None:
            cells.insert(split, MARKER)
        rows.append("".join(cells))
    marker = split * cell if split is not None else None
    return Chart(rows, marker, _axis(bins, cell, marker, limit, len(rows[0])))


def _block(count: int, tallest: int, height: int, level: int) -> str:
    """The block for one bin on one row (level 1 is the bottom row)."""
    eighths = round(count / tallest * height * 8)
    if count and not eighths:
        eighths = 1  # a bin with rows never looks empty
    filled = eighths - (level - 1) * 8
    return BLOCKS[max(0, min(8, filled))]


def _axis(
    bins: Sequence[Mapping[str, Any]], cell: int, marker: int | None, limit: int, span: int
) -> str:
    axis = [" "] * (span + 12)
    _put(axis, 0, "0")
    end = str(bins[-1]["hi"])
    if marker is not None:
        _put(axis, marker, f"{MARKER}{limit}")
        if marker + len(str(limit)) + 2 < span - len(end):
            _put(axis, span - len(end), end)
    else:
        _put(axis, span - len(end), end)
    return "".join(axis).rstrip()


def _put(cells: list[str], at: int, text: str) -> None:
    at = max(0, min(at, len(cells) - len(text)))
    cells[at : at + len(text)] = list(text)
