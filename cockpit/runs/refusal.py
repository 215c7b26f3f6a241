"""One reason not to start a run (or to start it warned): the key, what is wrong, the fix.

Its own module so that pre-flight and the checks of known causes it runs
(`cockpit.runs.preventable`) share it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cockpit.profiles.validate import MISSING, Problem, show_value

FORCIBLE = ("vram", "datacheck")
"""Kinds of refusal that force overrides: a guess (the estimate) or the data's findings."""
FORCE = "--force"
"""How a fix names "start anyway" in the CLI; the Runs place shows its key instead (`shown`)."""


@dataclass(frozen=True)
class Refusal:
    """One reason not to start: the profile key, what is wrong, how to fix it."""

    key: str
    message: str
    fix: str
    kind: str = "profile"
    """"profile", "data", "datacheck", "model", "env", "hardware" or "vram"."""
    catalog_id: str | None = None
    """The known cause (cockpit/knowledge/catalog.toml) the run would fail with: `cockpit
    explain` on its log would name the same id and fix."""
    value: str | None = None
    """The key's value as written in the profile ("4bit" in quotes), when the message does
    not already say it."""

    @property
    def where(self) -> str:
        """'key = value: ', 'key: ' or '' — what goes before the message."""
        if not self.key:
            return ""
        return f"{self.key} = {self.value}: " if self.value is not None else f"{self.key}: "

    def __str__(self) -> str:
        return self.shown()

    def fix_for(self, force_key: str = FORCE) -> str:
        """The fix, naming "start anyway" as this face does: `--force` (CLI), `f` (Runs)."""
        return self.fix.replace(FORCE, force_key) if self.kind in FORCIBLE else self.fix

    def shown(self, force_key: str = FORCE) -> str:
        """Key, message, fix and known cause as indented lines."""
        known = f"\n    known cause: {self.catalog_id}" if self.catalog_id else ""
        return f"{self.where}{self.message}\n    fix: {self.fix_for(force_key)}{known}"

    def as_warning(self) -> str:
        """One line for the notes of a run that starts anyway."""
        known = f" [{self.catalog_id}]" if self.catalog_id else ""
        return f"warning: {self.where}{self.message} — fix: {self.fix}{known}"


def from_problem(problem: Problem, kind: str = "profile") -> Refusal:
    """A profile problem as a refusal (or a warning): key, value, message, fix, catalog id."""
    value = None
    if problem.key and problem.value is not MISSING and not isinstance(problem.value, Mapping):
        shown = show_value(problem.value)
        value = None if shown in problem.message else shown
    fix = problem.suggestion or "edit the profile (README, Profiles)"
    return Refusal(problem.key, problem.message, fix, kind, problem.catalog_id, value)
