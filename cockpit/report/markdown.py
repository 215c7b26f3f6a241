"""Markdown for the post-mortem: fenced blocks and table cells that survive any log text,
sections that fail alone, and the rendering that redacts every line.

Every line written is redacted (`cockpit.redact`) except text from cockpit's own shipped
catalog, which holds no secrets and which the redactor would mangle
(`tokenizer.pad_token = tokenizer.eos_token` looks like a token assignment to it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from cockpit.logtext import display_line
from cockpit.redact import redact


class Shipped(str):
    """Text from cockpit's own catalog: written as is, not redacted."""


def guarded(title: str, build: Callable[[], list[str]]) -> list[str]:
    """A section's lines; a section that fails says so instead of sinking the report."""
    try:
        lines = build()
    except Exception as exc:  # a bug in one section must not cost the user the others
        reason = f"{type(exc).__name__}: {exc}"
        return [f"## {title}", "", f"_This section could not be built ({reason})._", ""]
    while lines and not lines[-1]:
        lines.pop()
    return [*lines, ""]


def code_block(text: str, lang: str = "text", *, shipped: bool = False) -> list[str]:
    """A fenced block that survives backticks, ANSI colours and control bytes in `text`."""
    lines = text.split("\n") if shipped else [display_line(line) for line in text.split("\n")]
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    wrap = Shipped if shipped else str
    return [f"{fence}{lang}", *(wrap(line) for line in lines), fence]


def table_cell(text: str, limit: int = 200) -> str:
    """One line of text fit for a Markdown table cell."""
    flat = " ".join(display_line(text.replace("\n", " ")).split())
    flat = flat if len(flat) <= limit else flat[: limit - 1] + "…"
    return flat.replace("|", "\\|")


def render(lines: Sequence[str]) -> str:
    """The document: every line redacted, except shipped catalog text."""
    out = [line if isinstance(line, Shipped) else redact(line) for line in lines]
    return "\n".join(out).rstrip("\n") + "\n"
