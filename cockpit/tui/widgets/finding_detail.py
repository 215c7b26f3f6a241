"""The selected finding in full: what was observed, and the fix in its own box.

Details and fixes are shown as plain text (never markup), so commands with brackets such
as ``pip install "unsloth[cu124]"`` read exactly as they must be typed.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from cockpit.doctor.finding import GLYPHS, Finding
from cockpit.tui.widgets.finding_table import SUMMARY_STYLES


def heading(finding: Finding) -> Content:
    """Glyph, status and title, coloured by status."""
    style = SUMMARY_STYLES[finding.status]
    return Content.assemble(
        (f"{GLYPHS[finding.status]} {finding.status.upper()}", style), "  ", (finding.title, "bold")
    )


class FindingDetail(VerticalScroll):
    """Heading, detail, fix box and the catalog reference of one finding."""

    def compose(self) -> ComposeResult:
        yield Static(id="finding-heading")
        yield Static(id="finding-text", markup=False)
        yield Static(id="finding-fix", markup=False)
        yield Static(id="finding-catalog")

    def on_mount(self) -> None:
        self.border_title = "Selected check"
        self.query_one("#finding-fix").border_title = "Fix  (c copies)"

    def show(self, finding: Finding | None) -> None:
        """Show ``finding``, or clear the panel when None."""
        self.set_class(finding is None, "-empty")
        if finding is None:
            return
        self.query_one("#finding-heading", Static).update(heading(finding))
        self.query_one("#finding-text", Static).update(finding.detail or "(no detail)")
        fix = self.query_one("#finding-fix", Static)
        fix.update(finding.fix)
        fix.display = bool(finding.fix)
        catalog = self.query_one("#finding-catalog", Static)
        catalog.display = finding.catalog_id is not None
        if finding.catalog_id:
            catalog.update(
                Content.assemble(
                    "Known error in the catalog: ", (finding.catalog_id, "bold $accent")
                )
            )
