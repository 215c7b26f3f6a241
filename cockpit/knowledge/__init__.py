"""Known failure causes of local fine-tuning stacks: catalog and log matcher."""

from __future__ import annotations

from cockpit.knowledge.catalog import Entry, entries
from cockpit.knowledge.matcher import Match, scan_lines, scan_text

__all__ = ["Entry", "Match", "entries", "scan_lines", "scan_text"]
