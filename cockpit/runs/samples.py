"""GRPO's samples (the engine's `samples` events, engines/samples.py) as the run view uses
them: the latest few kept, and the warning that nothing is being learned.

GRPO learns from the differences between the completions of one prompt: a group whose
completions all get the same total reward has zero advantage everywhere, so it moves
nothing. When that holds for every group of `NO_SIGNAL_STEPS` logged steps in a row, the
run is training on no signal; the warning names the rewards that were constant within
their groups, which is where to look (a format the model never hits, an answer it never
gets, a length it always reaches).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

NO_SIGNAL_STEPS = 5
"""Logged steps in a row with no reward variance in any group before the warning."""
KEPT = 20
"""Samples events the run view keeps (the newest)."""


class SampleLog:
    """The newest samples events and the current run of steps without reward variance."""

    def __init__(self, kept: int = KEPT) -> None:
        self.events: deque[dict[str, Any]] = deque(maxlen=kept)
        self.flat_streak = 0
        """Samples events in a row whose every group had zero total-reward spread."""
        self._flat_rewards: set[str] | None = None
        """Rewards constant within every group of the streak so far."""

    def add(self, event: Mapping[str, Any]) -> None:
        groups = [g for g in event.get("groups") or [] if isinstance(g, Mapping)]
        self.events.append(dict(event))
        if groups and all(g.get("total_std") == 0 for g in groups):
            flat = set.intersection(*(_flat_rewards(g) for g in groups))
            if self.flat_streak:
                flat &= self._flat_rewards or set()
            self._flat_rewards = flat
            self.flat_streak += 1
        else:
            self.flat_streak, self._flat_rewards = 0, None

    def add_all(self, events: Iterable[Mapping[str, Any]]) -> SampleLog:
        for event in events:
            self.add(event)
        return self

    def no_signal(self) -> str | None:
        """The warning, while every group of the last NO_SIGNAL_STEPS logged steps had the
        same total reward for all its completions; None otherwise (NO_SIGNAL_FIX says what
        to change)."""
        if self.flat_streak < NO_SIGNAL_STEPS:
            return None
        rewards = sorted(self._flat_rewards or ())
        which = f"constant: {', '.join(repr(r) for r in rewards)}" if rewards else "they cancel"
        return (
            f"No reward signal for {self.flat_streak} logged steps: all completions of each "
            f"prompt got the same total reward ({which}), so every advantage is 0 and nothing "
            "is learned."
        )


NO_SIGNAL_FIX = (
    "Make the rewards tell completions apart (partial credit for a near miss), raise "
    "num_generations or the sampling temperature, or start from a model that sometimes "
    "succeeds (an SFT run first)."
)


def _flat_rewards(group: Mapping[str, Any]) -> set[str]:
    spreads = group.get("reward_std")
    if not isinstance(spreads, Mapping):
        return set()
    return {str(name) for name, std in spreads.items() if std == 0}
