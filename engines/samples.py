"""What GRPO generated and how each reward scored it: the `samples` event.

Each reward function is wrapped (its `__name__` kept: TRL logs rewards by it) so that the
batch it scores is remembered: the prompts, the completions, and every function's score
per completion. After each logged step the event callback writes the last batch's first
groups (a prompt and its `num_generations` completions) with each completion's rewards,
its total and its advantage within the group (total minus the group's mean, over the
group's standard deviation, as GRPO scales it by default), and the spread of each reward
and of the total over the whole group (zero: nothing to learn from it). Texts are cut to
`MAX_TEXT_CHARS`; cockpit redacts them where it shows them, as it does output.log.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

from engines.rewards import completion_text

MAX_GROUPS = 2
"""Groups (prompts) per samples event."""
MAX_COMPLETIONS = 4
"""Completions per group whose text is in the event (the group's spreads count them all)."""
MAX_TEXT_CHARS = 400


class SampleRecorder:
    """Remembers the last batch the reward functions scored."""

    def __init__(self, group_size: int) -> None:
        self.group_size = max(1, group_size)
        self._completions: list[Any] | None = None
        self._prompts: list[Any] = []
        self._scores: dict[str, list[float | None]] = {}

    def wrap(self, funcs: Sequence[Callable[..., Any]]) -> list[Callable[..., Any]]:
        return [self._wrapped(func) for func in funcs]

    def _wrapped(self, func: Callable[..., Any]) -> Callable[..., Any]:
        name = getattr(func, "__name__", "reward")

        @functools.wraps(func)
        def scored(*args: Any, **kwargs: Any) -> Any:
            scores = func(*args, **kwargs)
            self._note(kwargs.get("prompts"), kwargs.get("completions"), name, scores)
            return scores

        return scored

    def _note(self, prompts: Any, completions: Any, name: str, scores: Any) -> None:
        if not isinstance(completions, list):
            return
        if completions is not self._completions:  # a new batch: its first function
            self._completions, self._scores = completions, {}
            self._prompts = list(prompts) if isinstance(prompts, list) else []
        self._scores[name] = [_score(s) for s in (scores or [])]

    def take(self) -> list[dict[str, Any]]:
        """The last batch as groups for the event (then forgotten: each batch once)."""
        completions, prompts, scores = self._completions, self._prompts, self._scores
        self._completions, self._prompts, self._scores = None, [], {}
        if not completions:
            return []
        groups = []
        for start in range(0, len(completions), self.group_size):
            if len(groups) == MAX_GROUPS:
                break
            indexes = range(start, min(start + self.group_size, len(completions)))
            totals = [_total(scores, i) for i in indexes]
            advantages = _advantages(totals)
            rows = []
            for i, total, advantage in zip(indexes, totals, advantages, strict=True):
                if len(rows) == MAX_COMPLETIONS:
                    break
                rewards = {n: v[i] if i < len(v) else None for n, v in scores.items()}
                rows.append({"text": _cut(completion_text(completions[i])), "rewards": rewards,
                             "total": total, "advantage": advantage})  # fmt: skip
            prompt = prompts[start] if start < len(prompts) else ""
            spreads = {n: _spread([v[i] for i in indexes if i < len(v)]) for n, v in scores.items()}
            groups.append({
                "prompt": _cut(_prompt_text(prompt)), "size": len(indexes),
                "reward_std": spreads, "total_std": _spread(totals), "completions": rows,
            })  # fmt: skip
        return groups


def _score(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None  # TRL lets a reward function skip a completion with None
    return number if math.isfinite(number) else None


def _total(scores: dict[str, list[float | None]], index: int) -> float | None:
    values = [v[index] for v in scores.values() if index < len(v) and v[index] is not None]
    return round(sum(values), 6) if values else None


def _spread(values: list[float | None]) -> float | None:
    """The standard deviation of the known values (0.0: all the same; None: fewer than 2)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    mean = sum(known) / len(known)
    return round(math.sqrt(sum((v - mean) ** 2 for v in known) / (len(known) - 1)), 6)


def _advantages(totals: list[float | None]) -> list[float | None]:
    known = [t for t in totals if t is not None]
    std = _spread(known)
    if std is None:
        return [None] * len(totals)
    mean = sum(known) / len(known)
    return [None if t is None else round((t - mean) / (std + 1e-4), 4) for t in totals]


def _prompt_text(prompt: Any) -> str:
    """A chat prompt as its turns' texts (the last user turn is what varies)."""
    if isinstance(prompt, list):
        return "\n".join(
            f"{m.get('role', '?')}: {m.get('content', '')}" for m in prompt if isinstance(m, dict)
        )
    return str(prompt)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"
