"""The panel under the log: the finding at the cursor in full, or a summary of them all.

Fixes are plain text (never markup), so commands with brackets such as
``pip install "unsloth[cu124]"`` read exactly as they must be typed. An unrecognized
error has no catalog explanation: the panel shows what failed instead (exception, the
package that raised it, the user's frame, what to search for).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from cockpit.knowledge.catalog import by_id
from cockpit.knowledge.matcher import Match
from cockpit.logs.source import LogFile
from cockpit.tui.widgets.log_view import MARKS

SUMMARY_LIMIT = 6


class LogFindingPanel(VerticalScroll, can_focus=False):
    """Cause, explanation, fix and related doctor checks of one finding."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.finding: Match | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="log-finding-heading")
        yield Static(id="log-finding-text", markup=False)
        yield Static(id="log-finding-fix", markup=False)

    def show(self, log: LogFile | None, finding: Match | None) -> None:
        self.finding = finding
        heading = self.query_one("#log-finding-heading", Static)
        text = self.query_one("#log-finding-text", Static)
        fix = self.query_one("#log-finding-fix", Static)
        fix.display = finding is not None
        if finding is None:
            self.border_title = "Findings"
            heading.update(_summary(log))
            text.update("")
            return
        entry = by_id(finding.id)
        style = "bold $error" if finding.severity == "error" else "bold $warning"
        self.border_title = f"Line {finding.line:,}"
        heading.update(
            Content.assemble(
                (f"{MARKS[finding.severity]} {finding.title}", style),
                (f"  ({finding.id})", "$text-muted"),
            )
        )
        explanation = entry.explanation if entry else ""
        if finding.failure is not None:
            explanation = "\n".join(f"{k}: {v}" for k, v in finding.failure.summary())
        doctor = (
            f"\nRelated doctor checks: {', '.join(entry.doctor)} (press 2)"
            if entry and entry.doctor
            else ""
        )
        text.update(explanation + doctor)
        fix.update(finding.fix)
        fix.border_title = "Fix  (c copies)"


def _summary(log: LogFile | None) -> Content:
    if log is None:
        return Content("")
    findings = log.all_findings
    if not findings:
        state = "so far" if not log.complete else f"in {log.line_count:,} lines"
        return Content.assemble(("No known problems ", "$success"), state, ".")
    lines: list[str | tuple[str, str]] = [
        (f"{len(findings)} problem{'s' * (len(findings) != 1)}", "bold"),
        " — ] next, [ previous, x findings only\n",
    ]
    for match in findings[:SUMMARY_LIMIT]:
        style = "$error" if match.severity == "error" else "$warning"
        lines.append((f"{MARKS[match.severity]} line {match.line:,}  ", style))
        lines.append(f"{match.title}\n")
    if len(findings) > SUMMARY_LIMIT:
        lines.append(f"… and {len(findings) - SUMMARY_LIMIT} more")
    return Content.assemble(*lines)
