"""The data check's findings about rows: schema, empty fields, duplicates, chat roles.

Each finding is a problem a user can act on, with the file lines it concerns (1-based; a
CSV row counts its header as line 1), a plain explanation and the fix. The ids are a
contract (the cockpit Data place and pre-flight name them); see `engines.datacheck` for the
full list and the JSON shape. No tokenizer is needed here.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
LINES_CAP = 100
"""Lines listed per finding at most; `count` says how many there are."""
CHAT_ROLES = ("system", "user", "assistant", "tool")
_RESPONSE_FIELD = {"instruction": "output", "prompt-completion": "completion", "text": "text"}


@dataclass
class Finding:
    id: str
    severity: Severity
    detail: str
    fix: str
    lines: list[int] = field(default_factory=list)
    count: int = 0
    """Rows (or lines) concerned; the lines list holds at most LINES_CAP of them."""
    notes: list[tuple[int, str]] = field(default_factory=list)
    """(line, what is wrong there) where each line has its own words (a parser's)."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "severity": self.severity,
            "lines": self.lines[:LINES_CAP],
            "count": self.count or len(self.lines),
            "detail": self.detail,
            "fix": self.fix,
        }
        if self.notes:
            out["line_notes"] = [{"line": n, "note": text} for n, text in self.notes]
        return out


def finding(id_: str, severity: Severity, lines: Sequence[int], detail: str, fix: str) -> Finding:
    return Finding(id_, severity, detail, fix, list(lines[:LINES_CAP]), len(lines))


def listed(lines: Sequence[int], limit: int = 5) -> str:
    """ "line 3", "lines 3, 8 and 12", "lines 3, 8, 12, 15, 20 and 95 more"."""
    shown = [str(n) for n in lines[:limit]]
    if len(lines) == 1:
        return f"line {shown[0]}"
    if len(lines) <= limit:
        return f"lines {', '.join(shown[:-1])} and {shown[-1]}"
    return f"lines {', '.join(shown)} and {len(lines) - limit} more"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "0 %"


def mixed_schema(rows: Sequence[dict[str, Any]], lines: Sequence[int]) -> Finding | None:
    """Rows whose keys differ from the most common set of keys (warning)."""
    keys = [frozenset(row) for row in rows]
    counts = Counter(keys)
    if len(counts) < 2:
        return None
    usual = counts.most_common(1)[0][0]
    odd = [line for key, line in zip(keys, lines, strict=True) if key != usual]
    example = next(k for k in keys if k != usual)
    detail = (
        f"{len(odd)} of {len(rows)} rows have other keys than the rest "
        f"({sorted(usual)}), e.g. {sorted(example)} on {listed(odd, 1)}; a missing key "
        "reads as empty"
    )
    fix = "give every row the same keys, or drop the odd rows"
    return finding("data_mixed_schema", "warning", odd, detail, fix)


def empty_fields(
    rows: Sequence[dict[str, Any]], lines: Sequence[int], fmt: str, grpo: bool
) -> Finding | None:
    """Rows whose reply (assistant turn, completion, output, text; GRPO: prompt) is empty."""
    if fmt == "chat" and not grpo:
        empty = [ln for r, ln in zip(rows, lines, strict=True) if _empty_assistant(r)]
        what = "an assistant turn with no content"
    else:
        column = "prompt" if grpo and fmt == "prompt-completion" else _RESPONSE_FIELD.get(fmt)
        if grpo and fmt in ("chat", "instruction"):
            column = "messages" if fmt == "chat" else "instruction"
        if column is None:
            return None
        empty = [ln for r, ln in zip(rows, lines, strict=True) if _blank(r.get(column))]
        what = f"an empty '{column}'"
    if not empty:
        return None
    detail = (
        f"{len(empty)} rows have {what} ({listed(empty)}): the trainer leaves such a row out "
        "or trains it to answer with nothing"
    )
    return finding("data_empty_field", "error", empty, detail, "fill in or delete these rows")


def empty_answers(rows: Sequence[dict[str, Any]], lines: Sequence[int]) -> Finding | None:
    """GRPO rows whose `answer` is empty: exact_match can never reward them."""
    empty = [ln for r, ln in zip(rows, lines, strict=True) if _blank(r.get("answer"))]
    if not empty:
        return None
    detail = (
        f"{len(empty)} rows have an empty 'answer' ({listed(empty)}): the exact_match reward "
        "gives them 0 whatever the model writes"
    )
    return finding("data_empty_field", "error", empty, detail, "fill in or delete these rows")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not str(value).strip())


def _empty_assistant(row: dict[str, Any]) -> bool:
    messages = row.get("messages")
    if not isinstance(messages, list):
        return False
    return any(
        isinstance(m, dict) and m.get("role") == "assistant" and _blank(m.get("content"))
        for m in messages
    )


def duplicates(
    rows: Sequence[dict[str, Any]], lines: Sequence[int], columns: Sequence[str]
) -> Finding | None:
    """Rows identical in the columns trained on (warning), with the first pairs."""
    first: dict[int, int] = {}
    pairs: list[tuple[int, int]] = []
    for row, line in zip(rows, lines, strict=True):
        key = hash(repr([row.get(c) for c in columns]))
        if key in first:
            pairs.append((first[key], line))
        else:
            first[key] = line
    if not pairs:
        return None
    shown = ", ".join(f"{b} repeats {a}" for a, b in pairs[:3])
    detail = (
        f"{len(pairs)} rows repeat an earlier row ({shown}): repeated examples weigh "
        "more and can be memorised"
    )
    fix = "remove the repeats (or keep them on purpose to weigh those examples more)"
    return finding("data_duplicates", "warning", [b for _, b in pairs], detail, fix)


def bad_roles(rows: Sequence[dict[str, Any]], lines: Sequence[int], grpo: bool) -> Finding | None:
    """Chat rows with unknown roles, turns that do not alternate, or (SFT) a last turn that
    is not the assistant's."""
    bad: list[int] = []
    first_reason = ""
    known: dict[tuple[Any, ...], str] = {}  # most files repeat a few role sequences
    for row, line in zip(rows, lines, strict=True):
        messages = row.get("messages")
        try:
            key = tuple(m.get("role") for m in messages)
        except (AttributeError, TypeError):  # not a list of turns
            reason = role_problem(messages, grpo)
        else:
            if key not in known:
                known[key] = role_problem(messages, grpo)
            reason = known[key]
        if reason:
            bad.append(line)
            first_reason = first_reason or f"line {line}: {reason}"
    if not bad:
        return None
    detail = f"{len(bad)} conversations are not well formed ({first_reason})"
    fix = (
        'roles must be system (first only), then user and assistant in turn ("tool" after an '
        "assistant call), ending with the assistant; ShareGPT's human/gpt are mapped for you"
    )
    return finding("data_bad_roles", "error", bad, detail, fix)


def role_problem(messages: Any, grpo: bool) -> str:
    """Why a conversation is malformed, or "" when it is fine."""
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "not a list of {role, content} turns"
    roles = [str(m.get("role")) for m in messages]
    unknown = sorted({r for r in roles if r not in CHAT_ROLES})
    if unknown:
        return f"unknown role {unknown[0]!r}"
    turns = [r for r in roles if r != "tool"]
    if "system" in turns[1:]:
        return "a system turn after the first"
    talk = turns[1:] if turns[:1] == ["system"] else turns
    for previous, current in itertools.pairwise(talk):
        if previous == current:
            return f"two {current} turns in a row"
    if talk and talk[0] != "user":
        return f"starts with {talk[0]}, not user"
    if not grpo and (not talk or talk[-1] != "assistant"):
        return "does not end with an assistant turn (nothing to learn after the last turn)"
    return ""
