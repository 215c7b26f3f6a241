"""The Doctor place: "will my stack even import and use the GPU?"

The checks run in a thread worker (they spawn probe interpreters and take seconds), on
the first visit and on ``r``; the table and the selected fix appear when they finish. A
runner that raises shows its error here instead of taking the app down.
"""

from __future__ import annotations

import sys
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from cockpit.doctor.finding import Finding, ordered
from cockpit.tui.screens.base import SETTINGS_KEY, PlaceScreen
from cockpit.tui.screens.prompt import interpreter_prompt
from cockpit.tui.widgets.finding_detail import FindingDetail
from cockpit.tui.widgets.finding_table import FindingTable, summary


def target_content(python: str | None) -> Content:
    """Which interpreter the checks run against."""
    if python is None:
        where = Content.assemble(("cockpit's own interpreter", "bold"), f" ({sys.executable})")
    else:
        where = Content.styled(python, "bold")
    return Content.assemble("Target interpreter: ", where, ("   i: choose another", "dim"))


def error_content(error: BaseException) -> Content:
    """The doctor's own failure, and what to do about it."""
    return Content.assemble(
        ("The doctor could not finish.\n\n", "bold $error"),
        (f"{type(error).__name__}: {error}\n\n", "bold"),
        "Press ",
        ("r", "bold $accent"),
        " to try again, or run ",
        ("cockpit doctor", "bold $accent"),
        " in a shell to see the full traceback.",
    )


class DoctorScreen(PlaceScreen):
    """Environment checks, each with its fix."""

    PLACE = "doctor"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Re-run"),
        Binding("c", "copy_fix", "Copy fix"),
        Binding("i", "choose_python", "Interpreter"),
        SETTINGS_KEY,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.python: str | None = None
        """Interpreter the checks run against; None means cockpit's own."""

    def compose_body(self) -> ComposeResult:
        with Vertical(id="doctor-head"):
            yield Static(id="doctor-target")
            with Horizontal(id="doctor-status-row"):
                yield LoadingIndicator(id="doctor-spinner")
                yield Static(id="doctor-status")
        with Horizontal(id="doctor-body"):
            yield FindingTable(id="doctor-findings")
            yield FindingDetail(id="doctor-detail")
        yield Static(id="doctor-error")

    def on_mount(self) -> None:
        self.python = self.cockpit.python
        self.action_rerun()

    def action_rerun(self) -> None:
        """Run every check again against the target interpreter."""
        if self._busy():
            return
        self.query_one("#doctor-target", Static).update(target_content(self.python))
        self.query_one("#doctor-status", Static).update("checking… (a few seconds)")
        self.set_class(True, "-checking")
        self.set_class(False, "-failed")
        self._check(self.python)

    @work(
        thread=True,
        exclusive=True,
        group="doctor",
        name="doctor",
        description="Run the doctor's checks",
        exit_on_error=False,
    )
    def _check(self, python: str | None) -> list[Finding]:
        return self.cockpit.doctor_runner(python)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "doctor":
            return
        if event.state == WorkerState.SUCCESS:
            self._show_findings(event.worker.result or [])
        elif event.state == WorkerState.ERROR and event.worker.error is not None:
            self._show_error(event.worker.error)

    def _show_findings(self, findings: list[Finding]) -> None:
        self.set_class(False, "-checking")
        table = self.query_one(FindingTable)
        table.show(ordered(findings))
        self.query_one("#doctor-status", Static).update(summary(findings))
        self.query_one(FindingDetail).show(table.selected)
        table.focus()

    def _show_error(self, error: BaseException) -> None:
        self.set_class(False, "-checking")
        self.set_class(True, "-failed")
        self.query_one("#doctor-status", Static).update(
            Content.styled("the doctor failed", "bold $error")
        )
        self.query_one("#doctor-error", Static).update(error_content(error))

    @on(DataTable.RowHighlighted, "#doctor-findings")
    def _row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.query_one(FindingDetail).show(self.query_one(FindingTable).selected)

    def action_copy_fix(self) -> None:
        """Copy the selected finding's fix to the clipboard (OSC 52, works over SSH)."""
        finding = self.query_one(FindingTable).selected
        if finding is None or not finding.fix:
            self.notify("This check has no fix to copy", severity="warning")
            return
        self.app.copy_to_clipboard(finding.fix)
        self.notify("Fix copied")

    def action_choose_python(self) -> None:
        """Ask for another interpreter path and check it."""
        if self._busy():
            return
        self.app.push_screen(interpreter_prompt(self.python), self._python_chosen)

    def _busy(self) -> bool:
        """True (and says so) while a run of the checks is still going."""
        if self.has_class("-checking"):
            self.notify("Still checking; wait for this run to finish", severity="warning")
            return True
        return False

    def _python_chosen(self, python: str | None) -> None:
        if python:
            self.python = python
            self.action_rerun()
