"""One reason not to start a run (or to start it warned): the key, what is wrong, the fix.

Its own module so that pre-flight and the checks of known causes it runs
(`cockpit.runs.preventable`) share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """One reason not to start: the profile key, what is wrong, how to fix it."""

    key: str
    message: str
    fix: str
    kind: str = "profile"
    """"profile", "data", "model", "env", "hardware" or "vram"."""
    catalog_id: str | None = None
    """The known cause (cockpit/knowledge/catalog.toml) the run would fail with: `cockpit
    explain` on its log would name the same id and fix."""

    def __str__(self) -> str:
        where = f"{self.key}: " if self.key else ""
        known = f"\n    known cause: {self.catalog_id}" if self.catalog_id else ""
        return f"{where}{self.message}\n    fix: {self.fix}{known}"

    def as_warning(self) -> str:
        """One line for the notes of a run that starts anyway."""
        where = f"{self.key}: " if self.key else ""
        known = f" [{self.catalog_id}]" if self.catalog_id else ""
        return f"warning: {where}{self.message} — fix: {self.fix}{known}"
