"""Secret redaction for anything cockpit shows or writes from a log.

Logs echo command lines, environment dumps and HTTP errors, so tokens leak into them.
Each secret is replaced by a short hint of what it was (``hf_…(redacted)``) so the
reader still knows which credential was involved, without seeing it.
"""

from __future__ import annotations

import re

HINT = "…(redacted)"
_KEY_WORDS = r"(?:api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?key)?|token|password|passwd|pwd)"

# Values after `token=` that are code, not secrets: `pad_token = tokenizer.eos_token`.
_NOT_SECRET = r"(?:None|True|False|null|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?![\w.])"

# (pattern, replacement) applied in order; earlier ones are the most specific.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bhf_[A-Za-z0-9]{10,}"), "hf_" + HINT),
    (re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"), "sk-" + HINT),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "AKIA" + HINT),
    (
        re.compile(r"(?i)\b(aws_secret_access_key\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{30,}"),
        r"\1" + HINT,
    ),
    (re.compile(r"(?i)\b(WANDB_API_KEY\s*[=:]\s*[\"']?)[0-9a-f]{40}\b"), r"\1wandb" + HINT),
    (re.compile(r"(?i)\b(wandb login\s+(?:--relogin\s+)?)[0-9a-f]{40}\b"), r"\1wandb" + HINT),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"), r"\1" + HINT),
    (
        re.compile(
            r"(?i)\b(authorization\s*[:=]\s*[\"']?(?:(?:basic|token)\s+)?)(?!bearer\b)[^\s\"',]{6,}"
        ),
        r"\1" + HINT,
    ),
    (
        re.compile(rf"(?i)(--?[\w-]*{_KEY_WORDS}(?:\s+|=)[\"']?)(?!\S*{re.escape(HINT)})[^\s\"']+"),
        r"\1" + HINT,
    ),
    (
        re.compile(
            rf"(?i)(\b[\w-]*{_KEY_WORDS}[\"']?\s*[=:]\s*[\"']?)(?!\S*{re.escape(HINT)})"
            rf"(?!{_NOT_SECRET})[^\s\"',;}}]{{4,}}"
        ),
        r"\1" + HINT,
    ),
    (
        re.compile(r"(?i)(\b(?:key|secret|credential|auth)\w*\W{1,3})[A-Za-z0-9+/=_\-]{32,}"),
        r"\1" + HINT,
    ),
)


def redact(text: str) -> str:
    """`text` with secret values replaced by a hint; everything else unchanged."""
    if not text:
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
