"""The Data place: "will this data teach anything, or silently nothing?"

Pick a profile; its data check (`python -m engines data`, under the profile's training
interpreter, through `cockpit.runs.datacheck`) runs in a thread worker with a progress
bar, and is cancelled when another profile is picked or the place is left. Then: the file
facts, the token-length histogram against the limit, the findings (errors first) with the
selected one's detail, fix and lines, and a preview of rows as the model reads them.
`enter` on a finding's line (or `g` and a line number) asks the engine for that row. A
profile or data file changed on disk (edited in Profiles) is checked again on the next
visit; `r` checks again now. Without the model's tokenizer the place says so and shows
what needs none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from cockpit.profiles.store import ProfileEntry, list_profiles
from cockpit.runs import data_view
from cockpit.runs.datacheck import run_data_check
from cockpit.tui.screens.base import PlaceScreen
from cockpit.tui.screens.prompt import TextPrompt
from cockpit.tui.widgets.data_facts import facts_content, verdict
from cockpit.tui.widgets.data_findings import DataFindingDetail, DataFindingTable
from cockpit.tui.widgets.data_histogram import DataHistogram
from cockpit.tui.widgets.data_preview import DataPreview

Stamp = tuple[tuple[str, int, int], ...]


def file_stamps(*paths: str | Path | None) -> Stamp:
    """(path, mtime_ns, size) of each file: a change on disk changes the stamp."""
    stamps = []
    for path in paths:
        if not path:
            continue
        try:
            info = Path(path).stat()
        except OSError:
            stamps.append((str(path), -1, -1))
        else:
            stamps.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(stamps)


@dataclass(frozen=True)
class Checked:
    """What a check worker brings back."""

    path: Path
    rows: tuple[int, ...]
    report: dict[str, Any] | None
    error: str | None


class DataScreen(PlaceScreen):
    """A profile's data as the trainer will see it."""

    PLACE = "data"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Re-check"),
        Binding("g", "go_to_row", "Row…"),
        Binding("escape", "focus_profiles", "Profiles list", show=False),
    ]

    @dataclass
    class Progressed(Message):
        """The running check reported how far it is (0 to 1)."""

        done: float

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[ProfileEntry] = []
        self.report: dict[str, Any] | None = None
        """The shown report (the first rows previewed)."""
        self.asked: int | None = None
        """The file line asked for with enter or g, previewed first."""
        self._wanted: Path | None = None
        """The profile whose check was started last."""
        self._checked: tuple[Path, Stamp] | None = None
        """The profile of the shown report, and its files' stamps when it was checked."""
        self._interrupted = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="data-body"):
            yield OptionList(id="data-profiles")
            with VerticalScroll(id="data-main"):
                with Horizontal(id="data-status-row"):
                    yield Static(id="data-status")
                    yield ProgressBar(id="data-progress", show_eta=False)
                yield DataHistogram(id="data-histogram")
                yield Static(id="data-facts")
                yield DataFindingTable(id="data-findings")
                yield DataFindingDetail(id="data-detail")
                yield DataPreview(id="data-preview")

    def on_mount(self) -> None:
        self.query_one("#data-profiles").border_title = "Profile"
        for selector in ("#data-findings", "#data-detail", "#data-preview", "#data-histogram"):
            self.query_one(selector).display = False
        self._list_profiles(self.cockpit.settings.default_profile)
        self.query_one("#data-profiles").focus()

    # -- profiles -------------------------------------------------------------------------

    def _list_profiles(self, default: str = "") -> None:
        """List the profiles, keeping the highlighted one (at first: `default`)."""
        current = self.selected_entry
        self.entries = list_profiles()
        options = self.query_one("#data-profiles", OptionList)
        options.set_options(Option(Content.styled(e.name, "bold"), id=e.name) for e in self.entries)
        names = [e.name for e in self.entries]
        if not names:
            self._status(Content.styled("No profiles: create one in Profiles (3).", "$warning"))
            return
        keep = current.name if current is not None and current.name in names else default
        options.highlighted = names.index(keep) if keep in names else 0

    @property
    def selected_entry(self) -> ProfileEntry | None:
        """The highlighted profile."""
        index = self.query_one("#data-profiles", OptionList).highlighted
        return self.entries[index] if index is not None and index < len(self.entries) else None

    @on(OptionList.OptionHighlighted, "#data-profiles")
    def _profile_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        entry = self.selected_entry
        if entry is not None and entry.path != self._wanted:
            self._start(entry.path)

    @on(OptionList.OptionSelected, "#data-profiles")
    def _profile_chosen(self, _event: OptionList.OptionSelected) -> None:
        table = self.query_one(DataFindingTable)
        (table if table.display else self.query_one("#data-main")).focus()

    def action_focus_profiles(self) -> None:
        """Back to the profile list."""
        self.query_one("#data-profiles").focus()

    # -- checking -------------------------------------------------------------------------

    def action_rerun(self) -> None:
        """Check the highlighted profile's data again."""
        entry = self.selected_entry
        if entry is not None:
            self._start(entry.path)

    def _start(self, path: Path, rows: tuple[int, ...] = ()) -> None:
        if not rows:
            self.asked = None
            self._wanted = path
        self._interrupted = False
        what = f"line {rows[0]} of {path.stem}" if rows else f"{path.stem}'s data"
        self._status(Content.styled(f"checking {what}…", "$text-muted"))
        self.query_one("#data-progress", ProgressBar).update(total=100, progress=0)
        self.set_class(True, "-checking")
        self._check(path, rows)

    @work(
        thread=True,
        exclusive=True,
        group="data",
        name="data-check",
        description="Check a profile's data",
        exit_on_error=False,
    )
    def _check(self, path: Path, rows: tuple[int, ...]) -> Checked:
        worker = get_current_worker()
        report, error = run_data_check(
            path,
            rows=rows,
            progress=lambda done: self.post_message(self.Progressed(done)),
            cancelled=lambda: worker.is_cancelled,
        )
        return Checked(path, rows, report, error)

    def on_data_screen_progressed(self, message: Progressed) -> None:
        self.query_one("#data-progress", ProgressBar).update(progress=round(message.done * 100))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "data":
            return
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.set_class(False, "-checking")
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, Checked):
            self._checked_in(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self._failed(f"the data check failed: {event.worker.error}")

    def _checked_in(self, done: Checked) -> None:
        entry = self.selected_entry
        if entry is None or entry.path != done.path:
            return  # an answer for a profile no longer highlighted
        if done.report is None:
            if done.error != "cancelled":
                self._failed(done.error or "the data check gave no report")
            return
        if done.rows:
            self._show_row(done.report, done.rows[0])
            return
        self._checked = (done.path, file_stamps(done.path, done.report.get("source")))
        self.show_report(done.report)

    def _failed(self, why: str) -> None:
        self._status(
            Content.assemble(
                ("✗ ", "bold $error"), (data_view.shown(why), "$error"), ("  r: try again", "dim")
            )
        )

    def _status(self, content: Content) -> None:
        self.query_one("#data-status", Static).update(content)

    # -- showing --------------------------------------------------------------------------

    def show_report(self, report: dict[str, Any]) -> None:
        """Show a whole report: facts, histogram, findings, preview."""
        self.report = report
        entry = self.selected_entry
        name = entry.name if entry is not None else report.get("profile", "")
        checked = Content.styled(f"  · {data_view.shown(name)} checked", "$text-muted")
        self._status(Content.assemble(verdict(report), checked))
        offline = data_view.offline_line(report) or ""
        self.query_one(DataHistogram).show(report.get("token_lengths"), offline)
        self.query_one("#data-facts", Static).update(facts_content(report))
        table = self.query_one(DataFindingTable)
        table.show(report.get("findings") or [])
        self.query_one(DataFindingDetail).show(table.selected)
        self._show_preview(report.get("preview") or [])
        self.query_one("#data-main", VerticalScroll).scroll_home(animate=False)  # a new report

    def _show_row(self, report: Mapping[str, Any], line: int) -> None:
        """Add the asked-for row to the preview (the rest of the report stays)."""
        shown = list((self.report or {}).get("preview") or [])
        asked = [i for i in report.get("preview") or [] if i.get("line") == line]
        shown = [i for i in shown if i.get("line") != line] + asked
        said = Content.styled(f"  · line {line} previewed below", "$text-muted")
        self._status(Content.assemble(verdict(self.report or {}), said))
        self._show_preview(shown)
        preview = self.query_one(DataPreview)
        self.call_after_refresh(
            self.query_one("#data-main", VerticalScroll).scroll_to_widget, preview, top=True
        )

    def _show_preview(self, items: Sequence[Mapping[str, Any]]) -> None:
        self.query_one(DataPreview).show(items, self.asked, self.app.no_color)

    @on(DataTable.RowHighlighted, "#data-findings")
    def _finding_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.query_one(DataFindingDetail).show(self.query_one(DataFindingTable).selected)

    @on(DataTable.RowSelected, "#data-findings")
    def _finding_chosen(self, _event: DataTable.RowSelected) -> None:
        lines = self.query_one("#data-finding-lines", OptionList)
        if lines.display:
            lines.focus()
            lines.highlighted = 0

    @on(DataFindingDetail.LineChosen)
    def _line_chosen(self, event: DataFindingDetail.LineChosen) -> None:
        self.preview_line(event.line)

    def preview_line(self, line: int) -> None:
        """Ask the engine for one file line's row and show it first in the preview."""
        entry = self.selected_entry
        if entry is None or self.report is None:
            return
        self.asked = line
        self._start(entry.path, (line,))

    def action_go_to_row(self) -> None:
        """Ask for a file line number and preview that row."""
        if self.report is None:
            self.notify("Wait for the check to finish first", severity="warning")
            return
        prompt = TextPrompt(
            "Preview a row", "File line number to preview", "e.g. 42", enter="preview"
        )
        self.app.push_screen(prompt, self._row_typed)

    def _row_typed(self, text: str | None) -> None:
        if text is None:
            return
        if not text.isdigit() or int(text) < 1:
            self.notify(f"{text!r} is not a line number (1, 2, …)", severity="warning")
            return
        self.preview_line(int(text))

    # -- leaving and coming back ----------------------------------------------------------

    def on_screen_suspend(self, _event: events.ScreenSuspend) -> None:
        if self.has_class("-checking"):
            self._interrupted = True
            self.workers.cancel_group(self, "data")
            self.set_class(False, "-checking")

    def on_screen_resume(self, _event: events.ScreenResume) -> None:
        # (PlaceScreen's own handler runs too: Textual calls each class's handler)
        if self._wanted is None:
            return  # the first visit: mounting started the check
        self._list_profiles()
        entry = self.selected_entry
        if entry is None:
            return
        checked = self._checked
        changed = checked is not None and checked[0] == entry.path and self.report is not None
        changed = changed and file_stamps(entry.path, self.report.get("source")) != checked[1]
        if changed or self._interrupted or entry.path != self._wanted:
            self._start(entry.path)
