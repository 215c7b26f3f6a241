"""Secrets out of command lines before they are written to run.json or shown.

Covers what lands on a training command line: Hugging Face tokens (`hf_…`), OpenAI-style
keys (`sk-…`), `--token X` / `--api-key=X` style options and `NAME_API_KEY=…`,
`WANDB_API_KEY=…`, `HF_TOKEN=…` assignments. The value is replaced, the name kept, so the
line still says which secret was passed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

REDACTED = "***"
_SECRET_OPTIONS = re.compile(
    r"^--?(?:[\w-]*[-_])?(?:token|api[-_]?key|secret|password|passwd)$", re.IGNORECASE
)
_ASSIGNMENT = re.compile(
    r"(?P<name>\b(?:[A-Z0-9_]*_)?(?:API_KEY|TOKEN|SECRET|PASSWORD)\b|(?:^|(?<=\s))--?[\w-]*"
    r"(?:token|api[-_]?key|secret|password))=(?P<value>\S+)",
    re.IGNORECASE,
)
_TOKENS = re.compile(r"\b(?:hf_[A-Za-z0-9]{8,}|sk-[A-Za-z0-9_-]{8,})")


def redact_text(text: str) -> str:
    """`text` with secret values replaced by ***."""
    text = _ASSIGNMENT.sub(lambda m: f"{m.group('name')}={REDACTED}", text)
    return _TOKENS.sub(REDACTED, text)


def redact_args(args: Sequence[str]) -> list[str]:
    """A command line (as a list) with secret values replaced, option names kept."""
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        hide_next = bool(_SECRET_OPTIONS.match(arg))
        out.append(redact_text(arg))
    return out
