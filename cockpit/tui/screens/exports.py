"""Ship a run (`e` in Runs): start an export (merged, Ollama, GGUF), follow its progress, and
see what the run's exports/ folder holds with sizes. An export runs detached: closing this
view or cockpit does not end it; `x` cancels it.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from cockpit.redact import redact
from cockpit.runs.engine_env import EngineCommandError
from cockpit.runs.exports import (
    cancel_export,
    exports_dir,
    list_exports,
    log_tail,
    running_export,
    start_export,
)
from cockpit.runs.status import RunSummary
from cockpit.runs.store import RunDir
from cockpit.termsafe import safe

REFRESH_S = 1.0


def _size(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


class ExportScreen(Screen[None]):
    """Exports of one run: start, follow, cancel; what is there."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("m", "export('merged')", "Merged"),
        Binding("o", "export('ollama')", "Ollama"),
        Binding("g", "export('gguf')", "GGUF"),
        Binding("x", "cancel", "Cancel"),
    ]

    def __init__(self, summary: RunSummary) -> None:
        super().__init__()
        self.run = RunDir(summary.run_dir)
        self._shown: tuple | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="exports-body"):
            yield Static(id="exports-list")
            yield Static(id="exports-log")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#exports-body").border_title = f"Ship {self.run.id}"
        self._refresh()
        self.set_interval(REFRESH_S, self._refresh, name="exports")

    def action_export(self, to: str) -> None:
        """Start an export of this run (merged first when Ollama or GGUF need it)."""
        if running_export(self.run) is not None:
            self.notify("An export of this run is already going (x cancels it)", severity="warning")
            return
        try:
            start_export(self.run, to)
        except (EngineCommandError, OSError) as error:
            self.notify(f"Could not start the export: {error}", severity="error", markup=False)
            return
        self._refresh()

    def action_cancel(self) -> None:
        """Cancel the running export (nothing half-written stays)."""
        if not cancel_export(self.run):
            self.notify("No export is running", severity="warning")

    def _refresh(self) -> None:
        exports, pid, tail = list_exports(self.run), running_export(self.run), log_tail(self.run)
        shown = (tuple(exports), pid, tuple(tail))
        if shown == self._shown:
            return
        self._shown = shown
        lines = [Content.styled(f"In {exports_dir(self.run)}", "bold")]
        for item in exports:
            lines.append(Content.assemble(f"  {item.name:<24} ", (_size(item.size), "$text-muted")))
        if not exports:
            lines.append(Content.styled("  nothing yet: m merged, o Ollama, g GGUF", "$text-muted"))
        state = f"an export is running (pid {pid}; x cancels it)" if pid else "no export running"
        lines += [Content(""), Content.styled(state, "$accent" if pid else "$text-muted")]
        self.query_one("#exports-list", Static).update(Content("\n").join(lines))
        log = [Content.styled(safe(redact(line)), "$text-muted") for line in tail]
        self.query_one("#exports-log", Static).update(Content("\n").join(log))
