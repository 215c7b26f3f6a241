"""The one secret redactor: for everything cockpit shows, echoes or writes.

Logs, engine messages and command lines echo tokens, environment dumps, URLs and HTTP
errors, so secrets leak into them. Each secret is replaced by a short hint of what it was
(``hf_…(redacted)``), so the reader still knows which credential was involved without
seeing it. A bare hex string is only a secret next to a key-like name (`WANDB_API_KEY = "…"`,
`api key …`): git commits and sha256 digests elsewhere stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

HINT = "…(redacted)"
_KEY_WORDS = r"(?:api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?key)?|token|password|passwd|pwd)"
_DONE = rf"(?!\S{{0,40}}{re.escape(HINT)})"  # not a value an earlier rule redacted
# Names before a value are bounded ({0,40}): an unbounded `[\w-]*` rescans the rest of the
# line from every word start, so one long hostile line would take seconds.
_NAME = r"[\w-]{0,40}"

# Values after `token=` that are code, not secrets: `pad_token = tokenizer.eos_token`,
# special tokens such as `<|endoftext|>` or `[PAD]`.
_NOT_SECRET = (
    r"(?:None|True|False|null|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|<\|?[\w.-]*\|?>|\[[A-Z]+\])"
    r"(?![\w.])"
)
# Just before a bare hex key: a name that says it is a credential (WANDB_API_KEY, hf_token,
# client_secret) and what joins them (`"] = "`, `: `, ` is `).
_KEY_BEFORE = re.compile(
    r"(?i)(?:key|token|secret|passw(?:or)?d|pwd|credentials?|auth)s?\b"
    r"(?:\s+is:?\s+|[^\w\n]{1,6})$"
)
_HEX_KEY = re.compile(r"(?<![0-9A-Za-z_])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40})(?!\w)")


def _hex_key(match: re.Match[str]) -> str:
    """A 40-/64-hex string hidden when a key-like name precedes it; a git sha stays."""
    before = match.string[max(match.start() - 60, 0) : match.start()]
    return HINT if _KEY_BEFORE.search(before) else match.group()


# (pattern, replacement) applied in order; earlier ones are the most specific.
_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # scheme://user:password@host: the password goes, the user and host stay.
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]{0,30}://[^\s:/?#@\"']{0,256}:)[^\s/?#@\"']{1,256}@"),
        r"\1" + HINT + "@",
    ),
    (re.compile(r"\bhf_[A-Za-z0-9]{10,}"), "hf_" + HINT),
    (re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"), "sk-" + HINT),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "AKIA" + HINT),
    (
        re.compile(r"(?i)\b(aws_secret_access_key[\"'\]]*\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{30,}"),
        r"\1" + HINT,
    ),
    (
        re.compile(r"(?i)\b(WANDB_API_KEY[\"'\]]*\s*[=:]\s*[\"']?)[0-9a-f]{40}\b"),
        r"\1wandb" + HINT,
    ),
    (
        re.compile(r"(?i)\b(wandb\s+login\s+(?:--relogin\s+)?)[0-9a-f]{40}\b"),
        r"\1wandb" + HINT,
    ),
    # A 40-/64-hex key beside a key-like name: `os.environ["X_KEY"] = "…"`, `api key is …`.
    (_HEX_KEY, _hex_key),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"), r"\1" + HINT),
    (
        re.compile(
            r"(?i)\b(authorization\s*[:=]\s*[\"']?(?:(?:basic|token)\s+)?)(?!bearer\b)[^\s\"',]{6,}"
        ),
        r"\1" + HINT,
    ),
    (
        re.compile(rf"(?i)(--?{_NAME}{_KEY_WORDS}(?:\s+|=)[\"']?){_DONE}[^\s\"']+"),
        r"\1" + HINT,
    ),
    (
        re.compile(
            rf"(?i)(\b{_NAME}{_KEY_WORDS}[\"'\]]*\s*[=:]\s*[\"']?){_DONE}"
            rf"(?!{_NOT_SECRET})[^\s\"',;}}]{{4,}}"
        ),
        r"\1" + HINT,
    ),
    # Environment-style `SOMETHING_KEY=value` (upper case: `text_key=messages` is config).
    (
        re.compile(
            rf"\b([A-Z0-9_]{{0,40}}_KEY[\"'\]]*\s*=\s*[\"']?){_DONE}(?!{_NOT_SECRET})[^\s\"',;]{{8,}}"
        ),
        r"\1" + HINT,
    ),
    (
        re.compile(r"(?i)(\b(?:key|secret|credential|auth)\w*\W{1,3})[A-Za-z0-9+/=_\-]{32,}"),
        r"\1" + HINT,
    ),
)

# Command-line options whose NEXT argument is the secret: --token X, --hub-token X, --access-key X.
_SECRET_OPTION = re.compile(rf"^--?(?:[\w-]*[-_])?{_KEY_WORDS}$", re.IGNORECASE)
_KIND = re.compile(rf"[a-z]{{0,5}}[_-]?{re.escape(HINT)}")  # hf_…(redacted), wandb…(redacted)


def redact(text: str) -> str:
    """`text` with secret values replaced by a hint; everything else unchanged."""
    if not text:
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redact_json(value: Any) -> Any:
    """A JSON value with every string in it redacted (a run's reason, the engine's error)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_args(args: Sequence[str]) -> list[str]:
    """A command line (as a list) with secret values replaced, option names kept."""
    hidden = _secret_positions(args)
    return [_hint(arg) if i in hidden else redact(arg) for i, arg in enumerate(args)]


def _secret_positions(args: Sequence[str]) -> set[int]:
    """Indexes of arguments that are secrets by position: after --token, Bearer, wandb login."""
    hidden: set[int] = set()
    for i, arg in enumerate(args):
        if _SECRET_OPTION.match(arg) or arg.lower() == "bearer":
            hidden.add(i + 1)
        elif arg == "login" and i and args[i - 1].rsplit("/", 1)[-1].lower() == "wandb":
            hidden.update(j for j in range(i + 1, len(args)) if not args[j].startswith("-"))
    return hidden


def _hint(value: str) -> str:
    """What a hidden argument shows: its kind when a rule knows it (`hf_…`), else the hint."""
    shown = redact(value)
    return shown if _KIND.fullmatch(shown) else HINT
