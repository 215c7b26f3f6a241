"""GRPO reward functions: the built-ins (`exact_match`, `format`, `length`) and user ones.

Each follows TRL's reward-function signature: keyword arguments `prompts`, `completions`,
`completion_ids` and one list per dataset column (e.g. `answer`), returning one float per
completion. A user reward is named "module:function"; the module is imported with the
profile's folder on sys.path.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engines.profile_schema import GrpoSection

RewardFunc = Callable[..., list[float]]
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
BUILTIN_REWARDS = ("exact_match", "format", "length")


class RewardError(ValueError):
    """A reward name that is neither built in nor an importable "module:function"."""


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the content of chat messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        return "".join(
            str(m.get("content") or "") if isinstance(m, dict) else str(m) for m in completion
        )
    return str(completion)


def extract_answer(text: str) -> str:
    """The text inside the last <answer>…</answer>, else the last number, else the last line."""
    tagged = _ANSWER_TAG.findall(text)
    if tagged:
        return tagged[-1].strip()
    numbers = _NUMBER.findall(text)
    if numbers:
        return numbers[-1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _normalise(answer: str) -> str:
    text = answer.strip().lower().rstrip(".")
    if _NUMBER.fullmatch(text):
        text = text.replace(",", "")
        try:
            return f"{float(text):g}"
        except ValueError:
            return text
    return " ".join(text.split())


def exact_match(completions: list[Any], answer: list[Any] | None = None, **_: Any) -> list[float]:
    """1.0 when the completion's answer equals the row's `answer` field, else 0.0."""
    if answer is None:
        raise RewardError("the exact_match reward needs an 'answer' column in the data")
    return [
        1.0 if _normalise(extract_answer(completion_text(c))) == _normalise(str(a)) else 0.0
        for c, a in zip(completions, answer, strict=True)
    ]


def format_reward(pattern: str) -> RewardFunc:
    """1.0 when the completion contains a match of ``pattern`` (dot matches newlines)."""
    regex = re.compile(pattern, re.DOTALL)

    def format(completions: list[Any], **_: Any) -> list[float]:  # TRL logs rewards by __name__
        return [1.0 if regex.search(completion_text(c)) else 0.0 for c in completions]

    return format


def length_reward(target: int) -> RewardFunc:
    """1.0 at ``target`` tokens, falling linearly to 0.0 at 0 or twice the target."""
    target = max(1, target)

    def length(
        completions: list[Any], completion_ids: list[Any] | None = None, **_: Any
    ) -> list[float]:
        sizes = (
            [len(ids) for ids in completion_ids]
            if completion_ids is not None
            else [len(completion_text(c)) for c in completions]
        )
        return [max(0.0, 1.0 - abs(size - target) / target) for size in sizes]

    return length


def build_rewards(settings: GrpoSection, search_dirs: Sequence[Path] = ()) -> list[RewardFunc]:
    """The reward functions named in [grpo] rewards, in order."""
    if not settings.rewards:
        raise RewardError("[grpo] rewards is empty: name at least one reward")
    return [_reward(name, settings, search_dirs) for name in settings.rewards]


def _reward(name: str, settings: GrpoSection, search_dirs: Sequence[Path]) -> RewardFunc:
    if name == "exact_match":
        return exact_match
    if name == "format":
        return format_reward(settings.format_pattern)
    if name == "length":
        return length_reward(settings.target_length)
    if ":" not in name:
        raise RewardError(
            f"unknown reward {name!r}: use {', '.join(BUILTIN_REWARDS)} or 'module:function'"
        )
    return import_reward(name, search_dirs)


def import_reward(spec: str, search_dirs: Sequence[Path] = ()) -> RewardFunc:
    """The function named "module:function", imported with ``search_dirs`` on sys.path."""
    module_name, _, attr = spec.partition(":")
    for directory in reversed(search_dirs):
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        where = ", ".join(str(d) for d in search_dirs) or "sys.path"
        raise RewardError(
            f"reward {spec!r}: cannot import {module_name!r} ({exc}); looked in {where}"
        ) from exc
    func = getattr(module, attr, None)
    if not callable(func):
        raise RewardError(f"reward {spec!r}: {module_name} has no function {attr!r}")
    return func
