"""The Data place's verdict line and file facts: what was read, the format and why, the
column mapping, trained tokens and steps per epoch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from textual.content import Content

from cockpit.runs import data_view

LABEL_WIDTH = 8


def verdict(report: Mapping[str, Any]) -> Content:
    """ "✗ 2 errors · 1 warning: training would fail or waste rows" or "✓ no findings"."""
    counts = Counter(f.get("severity") for f in report.get("findings") or [])
    if not counts:
        return Content.styled("✓ no findings: nothing here stops or wastes a run", "bold $success")
    parts = []
    if counts["error"]:
        parts.append(
            Content.styled(
                f"✗ {counts['error']} error{'s' * (counts['error'] != 1)}", "bold $error"
            )
        )
    if counts["warning"]:
        warned = f"! {counts['warning']} warning{'s' * (counts['warning'] != 1)}"
        parts.append(Content.styled(warned, "bold $warning"))
    return Content(" · ").join(parts)


def facts_content(report: Mapping[str, Any]) -> Content:
    """One labelled line per fact."""
    lines = []
    for label, value in data_view.facts(report):
        lines.append(Content.assemble((f"{label:<{LABEL_WIDTH}}", "$text-muted"), " ", value))
    return Content("\n").join(lines)
