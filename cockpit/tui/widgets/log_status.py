"""One line above the log: which file, how big, how far indexed, and the view's modes.

The folder comes last, so a narrow terminal cuts it rather than the findings count.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from cockpit.hardware.format import fmt_bytes
from cockpit.logs.source import LogFile


class LogStatus(Static):
    """File name, size, lines, indexing progress, findings, FOLLOW / FINDINGS ONLY, the
    search that n / N repeat."""

    DEFAULT_CSS = """
    LogStatus {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def show(
        self, log: LogFile | None, *, following: bool, findings_only: bool, search: str = ""
    ) -> None:
        if log is None:
            self.update("")
            return
        parts: list[str | tuple[str, str]] = [(log.path.name, "bold"), "  "]
        parts.append(f"{fmt_bytes(log.size)} · {log.line_count:,} lines")
        if not log.complete:
            parts.append(f" · indexing {int(100 * log.progress)}%")
        findings = log.all_findings
        errors = sum(1 for m in findings if m.severity == "error")
        if findings:
            label = f" · {len(findings)} finding{'s' * (len(findings) != 1)}"
            parts.append(
                (
                    label + (f" ({errors} error{'s' * (errors != 1)})" if errors else ""),
                    "bold $error" if errors else "bold $warning",
                )
            )
        elif log.complete:
            parts.append((" · no known problems", "$success"))
        if log.binary:
            parts.append((" · binary?", "$warning"))
        if log.deleted:
            parts.append((" · DELETED", "bold $error"))
        if following:
            parts.append(("  FOLLOW", "bold $accent"))
        if findings_only:
            parts.append(("  FINDINGS ONLY", "bold $accent"))
        if search:  # n / N go on with it
            parts.append((f"  /{search}", "bold $accent"))
        parts.append((f"  in {log.path.parent}", "$text-muted"))  # last: cut first when narrow
        self.update(Content.assemble(*parts))
