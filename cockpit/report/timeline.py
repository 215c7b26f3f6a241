"""The timeline of a run for its post-mortem: when it was created, started, first and last
stepped, checkpointed, warned and ended, from run.json and events.jsonl.

Long runs stay readable: steps are not listed (only the first of each start and the last),
and of hundreds of checkpoints or warnings only the first and last few are kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from cockpit.report.markdown import table_cell
from cockpit.runs.status import iso_time

KEEP_EACH_END = 10
"""Of many checkpoints or warnings, the timeline keeps the first and the last this many."""
Row = tuple[float | None, str, str]
"""(unix time, kind, text) of one timeline line."""


def timeline_section(meta: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> list[str]:
    """A compact table: created, starts, first step, checkpoints, warnings, last step, end."""
    rows = _trimmed(_timeline_rows(meta, events))
    lines = ["## Timeline", ""]
    if not rows:
        return [*lines, "_Nothing recorded: no run.json times and no events._"]
    timed = [t for t, _, _ in rows if t is not None]
    t0 = _number(meta.get("created")) or (min(timed) if timed else None)
    lines += ["| time (UTC) | from start | event |", "| --- | ---: | --- |"]
    for t, _, text in rows:
        offset = _offset(t - t0) if t is not None and t0 is not None else ""
        lines.append(f"| {iso_time(t) or '?'} | {offset} | {table_cell(text)} |")
    return lines


def _timeline_rows(meta: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    if _number(meta.get("created")) is not None:
        rows.append((meta["created"], "created", f"run created (profile {meta.get('profile')})"))
    rows += _event_rows(events)
    if _number(meta.get("stop_requested")) is not None:
        rows.append((meta["stop_requested"], "stop", "stop requested (`cockpit stop`)"))
    if meta.get("exit_code") is not None or meta.get("signal"):
        text = f"process {exit_text(meta.get('exit_code'), meta.get('signal'))}"
        rows.append((_number(meta.get("ended")), "exit", text))
    return sorted(rows, key=lambda row: math.inf if row[0] is None else row[0])


def _event_rows(events: Sequence[Mapping[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    total, first, last = None, None, None
    for event in events:
        kind, t = event.get("kind"), _number(event.get("t"))
        if kind == "start":
            total, first = event.get("steps"), None
            rows.append((t, "start", _start_text(event)))
        elif kind == "step":
            if first is None:
                first = event
                rows.append((t, "step", "first step: " + _step_text(event, total)))
            last = (t, event, total)
        elif kind == "checkpoint":
            rows.append((t, "checkpoint", f"checkpoint at step {event.get('step')}"))
        elif kind == "message" and event.get("level") in ("warning", "error"):
            rows.append((t, "message", f"{event.get('level')}: {event.get('text', '')}"))
        elif kind == "end":
            rows.append((t, "end", _end_text(event)))
    if last is not None and last[1] is not first:
        rows.append((last[0], "step", "last step: " + _step_text(last[1], last[2])))
    return rows


def _start_text(event: Mapping[str, Any]) -> str:
    parts = [f"{event.get('steps', '?')} steps", f"device {event.get('device', '?')}"]
    parts.append(f"backend {event.get('backend', '?')}")
    if event.get("resumed_from") is not None:
        parts.append(f"resumed from step {event['resumed_from']}")
    return "started: " + ", ".join(parts)


def _step_text(event: Mapping[str, Any], total: Any) -> str:
    loss = _number(event.get("loss"))
    shown = f", loss {loss:.4f}" if loss is not None else ""
    return f"step {event.get('step')}/{total or '?'}{shown}"


def _end_text(event: Mapping[str, Any]) -> str:
    text = f"ended {event.get('status')}"
    if event.get("steps_done") is not None:
        text += f" after {event['steps_done']} steps"
    error = ": ".join(str(event[k]) for k in ("error_class", "error_message") if event.get(k))
    return f"{text}: {error}" if error else text


def _trimmed(rows: list[Row]) -> list[Row]:
    """Rows with the middle of long runs of checkpoints and messages left out."""
    for kind in ("checkpoint", "message"):
        indexes = [i for i, row in enumerate(rows) if row[1] == kind]
        if len(indexes) <= 2 * KEEP_EACH_END:
            continue
        dropped = indexes[KEEP_EACH_END:-KEEP_EACH_END]
        t = rows[dropped[0]][0]
        marker: Row = (t, "gap", f"… {len(dropped)} more {kind}s …")
        keep = set(range(len(rows))) - set(dropped)
        rows = [marker if i == dropped[0] else rows[i] for i in sorted(keep | {dropped[0]})]
    return rows


def _offset(seconds: float) -> str:
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours}:{minutes:02d}:{secs:02d}" if hours else f"+{minutes:02d}:{secs:02d}"


def exit_text(code: Any, signal: Any) -> str:
    """ "killed by SIGKILL" or "exited with code 1"."""
    return f"killed by {signal}" if signal else f"exited with code {code}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
