"""Known failure causes of local fine-tuning stacks: catalog, log matcher, redaction."""

from __future__ import annotations

from cockpit.knowledge.catalog import Entry, entries
from cockpit.knowledge.matcher import Match, scan_lines, scan_text
from cockpit.knowledge.redact import redact

__all__ = ["Entry", "Match", "entries", "redact", "scan_lines", "scan_text"]
