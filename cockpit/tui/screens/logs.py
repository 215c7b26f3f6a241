"""The Logs place: any log, tailed, with known errors marked and their fixes beside them.

It opens what the user asked for (`cockpit logs FILE`, `l` on a run, `o` here), else
the newest run's output.log. The file is indexed in a thread worker, chunk by chunk, so
the first screen shows at once however large the file is; findings appear as the index
reaches them. Follow mode polls the file and copes with truncation, rotation and
deletion.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from cockpit.logs.source import Chunk, LogFile, LogOpenError
from cockpit.runs.store import RunStoreError
from cockpit.runs.target import resolve_log
from cockpit.tui.screens.base import PlaceScreen
from cockpit.tui.screens.prompt import TextPrompt
from cockpit.tui.widgets.log_finding import LogFindingPanel
from cockpit.tui.widgets.log_status import LogStatus
from cockpit.tui.widgets.log_view import LogView

FIRST_SCREEN_BYTES = 256 * 1024
"""Indexed before the first paint, so the top of any file shows at once."""
FOLLOW_POLL_S = 0.1
IDLE_POLL_S = 1.0

_FINDING = Binding.Group("Findings")
"""[ and ] share one footer entry, so the footer fits 80 columns."""

EMPTY = (
    "No log open.\n\n"
    "  o   open a log file (a path) or a run (its id)\n"
    "  4   go to Runs, pick a run and press l to read its log\n\n"
    "From a shell: cockpit logs FILE, or cockpit explain FILE for the findings only."
)


class Indexed(Message):
    """The index worker queued chunks."""


class LogsScreen(PlaceScreen):
    """Log viewer with known-error annotation."""

    PLACE = "logs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "open", "Open"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("n", "find(False)", "Next match", show=False),
        Binding("N", "find(True)", "Previous match", show=False),
        Binding(
            "left_square_bracket", "finding(-1)", "Prev finding", key_display="[", group=_FINDING
        ),
        Binding(
            "right_square_bracket", "finding(1)", "Next finding", key_display="]", group=_FINDING
        ),
        Binding("x", "findings_only", "Filter"),  # to the findings; the panel says so
        Binding("c", "copy_fix", "Copy fix", show=False),  # the fix's box says "c copies"
        Binding("escape", "close_search", "Close search", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.log_file: LogFile | None = None
        self.following = False
        self._poll_timer = None
        self._chosen = False
        self._pending_line: int | None = None
        """A line asked for before the index reached it."""
        self._indexed: deque[tuple[LogFile, Chunk]] = deque()
        """Chunks the index worker has read, for the screen to apply."""

    def compose_body(self) -> ComposeResult:
        yield LogStatus(id="log-status")
        yield Static(EMPTY, id="log-empty")
        yield LogView(id="log-view")
        yield Input(placeholder="search (enter: find, then n / N; escape: close)", id="log-search")
        yield LogFindingPanel(id="log-finding")

    def say(self, message: str, **kwargs) -> None:
        """A notification in plain text: paths, search terms and log text hold brackets."""
        self.notify(message, markup=False, **kwargs)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#log-search").display = False
        self._poll_timer = self.set_interval(IDLE_POLL_S, self._poll, name="log-poll")
        self._show_state()

    def on_screen_resume(self) -> None:
        self.open_requested()

    def open_requested(self) -> None:
        """Open the log the app was asked for; on the first visit, else the newest run's."""
        target = self.cockpit.take_log_target()
        if target is not None:
            self.open_target(target)
            if self.cockpit.follow_log:
                self.set_following(True)
            elif self.cockpit.log_line is not None:
                self.jump_to(self.cockpit.log_line - 1)
        elif self.log_file is None and not self._chosen:
            latest = _latest_run_log()
            if latest is not None:
                self.open_target(str(latest))
        self._chosen = True
        self.query_one(LogView).focus()

    # -- opening ----------------------------------------------------------------------------

    def open_target(self, target: str) -> None:
        """Open a log path, a run directory or a run id; say why in a notification if not."""
        try:
            log = LogFile(resolve_log(target))
        except (LogOpenError, RunStoreError) as error:
            self.say(str(error), title="Cannot open log", severity="error", timeout=10)
            return
        if self.log_file is not None:
            self.log_file.close()
        self.log_file = log
        view = self.query_one(LogView)
        chunk = log.next_chunk(FIRST_SCREEN_BYTES) if not log.complete else None
        if chunk is not None:
            log.apply(chunk)
        view.show(log)
        self._show_state()
        self._index()
        if log.binary:
            self.say(
                f"{log.path.name} looks like a binary file; shown as text, best effort.",
                severity="warning",
            )

    def _show_state(self) -> None:
        has_log = self.log_file is not None
        self.query_one("#log-empty").display = not has_log
        self.query_one(LogView).display = has_log
        self.query_one(LogFindingPanel).display = has_log
        self._update_status()
        self._update_panel()

    def _indexing(self) -> bool:
        running = any(not w.is_finished for w in self.workers if w.group == "log-index")
        return running or bool(self._indexed)

    @work(thread=True, exclusive=True, group="log-index", exit_on_error=False)
    def _index(self) -> None:
        """Read on without waiting for the screen: each chunk is queued, and the screen
        applies what has come in one go (one repaint per batch, not per chunk)."""
        worker = get_current_worker()
        log, chunk = self.log_file, None
        while log is not None and not worker.is_cancelled:
            try:
                chunk = log.next_chunk(after=chunk)
            except OSError:
                return  # closed or replaced meanwhile; the poll starts a new index
            if chunk.generation != log.generation:
                return
            self._indexed.append((log, chunk))
            self.post_message(Indexed())
            if chunk.end == chunk.start or chunk.scanned_to >= log.size:
                return  # only an unfinished line is left (or nothing)

    @on(Indexed)
    def _apply_indexed(self) -> None:
        log, applied = self.log_file, False
        while self._indexed:
            source, chunk = self._indexed.popleft()
            applied |= source is log and log.apply(chunk)
        if not applied or log is None:
            return
        view = self.query_one(LogView)
        view.reindexed()
        if self.following:
            view.go_to_end()
        elif self._pending_line is not None and (
            self._pending_line < log.line_count or log.complete
        ):
            view.go_to_line(self._pending_line)
            self._pending_line = None
        self._update_status()
        self._update_panel()

    def jump_to(self, line: int) -> None:
        """Put the cursor on 0-based `line`, now or as soon as the index reaches it."""
        if self.log_file is None:
            return
        if line < self.log_file.line_count:
            self.query_one(LogView).go_to_line(line)
        else:
            self._pending_line = line

    # -- following --------------------------------------------------------------------------

    def _poll(self) -> None:
        log = self.log_file
        if log is None:
            return
        change = log.poll()
        if change is None:
            if not log.complete and not self._indexing():
                self._index()  # appended while the last index pass was finishing
            return
        view = self.query_one(LogView)
        if change in ("truncated", "replaced"):
            note = "was truncated" if change == "truncated" else "was replaced (rotated)"
            self.say(f"{log.path.name} {note}; reading it again from the start.")
            view.show(log)
        elif change == "deleted":
            self.say(
                f"{log.path.name} was deleted; what was read stays on screen.", severity="warning"
            )
        view.reindexed()
        if self.following:
            view.go_to_end()
        self._update_status()
        if change != "deleted":
            self._index()

    def action_toggle_follow(self) -> None:
        self.set_following(not self.following)

    def set_following(self, on: bool) -> None:
        self.following = on
        if self._poll_timer is not None:
            self._poll_timer.stop()
        self._poll_timer = self.set_interval(
            FOLLOW_POLL_S if on else IDLE_POLL_S, self._poll, name="log-poll"
        )
        if on:
            self.query_one(LogView).go_to_end()
        self._update_status()

    @on(LogView.Scrolled)
    def _user_scrolled(self) -> None:
        if self.following:
            self.set_following(False)

    # -- search and findings ----------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    def action_close_search(self) -> None:
        box = self.query_one("#log-search", Input)
        if box.display:
            box.display = False
            self.query_one(LogView).focus()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """Jump to the first match and hand the keys back to the log, so n and N go on
        searching (as in less and vim) instead of typing into the box."""
        view = self.query_one(LogView)
        view.set_search(event.value)
        self.action_close_search()
        self._update_status()
        if event.value:
            self.action_find(False)

    def action_find(self, backwards: bool) -> None:
        view = self.query_one(LogView)
        needle = view.search or self.query_one("#log-search", Input).value
        if self.log_file is None or not needle:
            self.say("Press / to search first.", severity="warning")
            return
        current = view.cursor_line or 0
        line, wrapped = self.log_file.find_wrapping(needle, current, backwards=backwards)
        if line is None:
            self.say(f"No '{needle}' in this log.", severity="warning")
            return
        if wrapped:
            end = "bottom" if backwards else "top"
            only = " (the only match)" if line == current else ""
            self.say(f"Search wrapped to the {end}: '{needle}' at line {line + 1:,}{only}.")
        if view.findings_only:
            view.set_findings_only(False)
        if self.following:
            self.set_following(False)
        view.go_to_line(line)

    def action_finding(self, direction: int) -> None:
        view = self.query_one(LogView)
        findings = [] if self.log_file is None else self.log_file.all_findings
        if not findings:
            self.say("No known problems found in this log.", severity="information")
            return
        current = view.cursor_line if view.cursor_line is not None else -1
        lines = [m.line - 1 for m in findings]
        ahead = [line for line in lines if (line - current) * direction > 0]
        target = (min(ahead) if direction > 0 else max(ahead)) if ahead else None
        if target is None:
            target = lines[0] if direction > 0 else lines[-1]
            self.say(
                "Wrapped around to the " + ("first" if direction > 0 else "last") + " finding."
            )
        if self.following:
            self.set_following(False)
        view.go_to_line(target)

    def action_findings_only(self) -> None:
        view = self.query_one(LogView)
        view.set_findings_only(not view.findings_only)
        self._update_status()

    def action_copy_fix(self) -> None:
        finding = self.query_one(LogFindingPanel).finding
        if finding is None:
            self.say("Put the cursor on a finding first (] jumps to the next).", severity="warning")
            return
        self.app.copy_to_clipboard(finding.fix)
        self.say(f"Copied the fix for {finding.title} (line {finding.line:,}).")

    def action_open(self) -> None:
        current = "" if self.log_file is None else str(self.log_file.path)
        prompt = TextPrompt(
            "Open log", "A log file path, a run directory or a run id", "runs/…/output.log", current
        )
        self.app.push_screen(prompt, self._open_chosen)

    def _open_chosen(self, target: str | None) -> None:
        if target:
            self.open_target(target)

    @on(LogView.CursorMoved)
    def _cursor_moved(self) -> None:
        self._update_panel()

    def _update_panel(self) -> None:
        view = self.query_one(LogView)
        self.query_one(LogFindingPanel).show(self.log_file, view.finding_at(view.cursor_line))

    def _update_status(self) -> None:
        view = self.query_one(LogView)
        self.query_one(LogStatus).show(
            self.log_file,
            following=self.following,
            findings_only=view.findings_only,
            search=view.search,
        )


def _latest_run_log() -> Path | None:
    """The output.log of the most recently created run, if there is one."""
    from cockpit.runs.store import list_runs

    try:
        runs = list_runs()
    except OSError:
        return None
    for summary in runs:
        log = summary.run_dir / "output.log"
        if log.exists():
            return log
    return None
