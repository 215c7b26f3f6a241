"""The Runs place: "is it training, how fast, when is it done?"

Left (or on top, in a narrow terminal), every run newest first under a "new run" entry;
right (or below), the launch pane for "new run" or the live view of the highlighted run.
The runs list has the keys on arrival (↓ from "new run" opens the newest run), unless
there is no run yet: then the profile picker has them.
The list is read again every 2 s in a worker, so runs started elsewhere (`cockpit train
--detach`, an earlier cockpit) appear and are re-attached; entering the place opens the
newest run still going. Starting, stopping and resuming live in `RunActions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import ContentSwitcher, OptionList
from textual.worker import Worker, WorkerState

from cockpit.hardware.snapshot import GpuTraits, MachineSnapshot
from cockpit.profiles.store import ProfileEntry, list_profiles
from cockpit.runs.endings import can_resume, has_trained, known_problem, unsettled
from cockpit.runs.launch_check import LaunchCheck, check_launch
from cockpit.runs.status import RunSummary
from cockpit.runs.store import EventFolds, RunDir, RunStoreError, list_runs, summarize_dir
from cockpit.tui.screens.run_actions import RunActions
from cockpit.tui.widgets.run_launch import LaunchPane
from cockpit.tui.widgets.run_list import NEW_RUN, RunList
from cockpit.tui.widgets.run_view import RunView

LIST_REFRESH_S = 2.0
FOOTER_ACTIONS = ("start", "force_start", "stop", "resume", "try_run", "compare", "samples", "ship")
"""The keys the footer shows only when they apply."""


class RunsScreen(RunActions):
    """Launch runs and watch them."""

    PLACE = "runs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_run", "New run"),
        Binding("s", "start", "Start"),
        Binding("f", "force_start", "Start anyway"),
        Binding("x", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("c", "copy_command", "Copy command"),
        Binding("l", "read_log", "Read log"),
        Binding("t", "try_run", "Try"),
        Binding("g", "samples", "Samples"),
        Binding("e", "ship", "Export"),
        Binding("space", "mark", "Mark", show=False),
        Binding("v", "compare", "Compare"),
        Binding("escape", "focus_list", "Back to the list", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.check: LaunchCheck | None = None
        """The verdict on the launch pane's highlighted profile (None while checking)."""
        self._listed = False
        self._list_worker: Worker[list[RunSummary]] | None = None
        self._folds = EventFolds()
        """Each run's events as read so far: a listing reads only what was appended."""
        self._gpus: tuple[GpuTraits, ...] | None = None
        self._check_seq = 0
        """Numbers the pre-flights, so a slow, older one cannot overwrite a newer one."""
        self._keys: tuple[bool | None, ...] = ()
        """Which of start, force, stop, resume and try the footer shows now."""

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="runs-body"):
            yield RunList(id="run-list")
            with ContentSwitcher(initial="launch-pane", id="runs-detail"):
                yield LaunchPane(id="launch-pane")
                yield RunView(id="run-view")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(RunList).border_title = "Runs"
        default = self.cockpit.settings.default_profile
        self.query_one(LaunchPane).show_profiles(list_profiles(), default)
        self.watch(self.cockpit, "snapshot", self._snapshot_changed)
        self.set_interval(LIST_REFRESH_S, self.request_list, name="runs-list")
        self.request_list()
        self.query_one(RunList).focus()

    # -- the list -------------------------------------------------------------------------

    def request_list(self) -> None:
        """Read the runs again unless a read is still going."""
        if self._list_worker is None or self._list_worker.is_finished:
            self._list_worker = self._list_runs()

    @work(
        thread=True,
        group="runs-list",
        name="list-runs",
        description="List the runs",
        exit_on_error=False,
    )
    def _list_runs(self) -> list[RunSummary]:
        folds = self._folds
        return [
            summarize_dir(RunDir(s.run_dir), folds=folds) if unsettled(s) else s
            for s in list_runs(folds=folds)
        ]

    def _show_runs(self, summaries: Sequence[RunSummary]) -> None:
        runs = self.query_one(RunList)
        view = self.query_one(RunView)
        if view.latest is not None:  # the open run's own poll is fresher than the listing
            fresh = view.latest.update.summary
            summaries = [fresh if s.id == fresh.id else s for s in summaries]
        runs.show(summaries)
        self.note_summaries(summaries)
        if not self._listed:  # re-attach: open the newest run still going
            self._listed = True
            active = next((s for s in summaries if s.active), None)
            runs.select(active.id if active else NEW_RUN)
            if not summaries and runs.has_focus:
                self._focus_picker()
        self._show_selected()

    def _focus_picker(self) -> None:
        """With no run to move between, ↑/↓ move the profile picker (Esc: back to the list)."""
        picker = self.query_one("#launch-profiles", OptionList)
        if picker.option_count:
            picker.focus()

    @on(OptionList.OptionHighlighted, "#run-list")
    def _run_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_selected()

    @on(OptionList.OptionSelected, "#run-list")
    def _run_chosen(self, _event: OptionList.OptionSelected) -> None:
        if self.query_one(RunList).selected_id == NEW_RUN:
            self.query_one("#launch-profiles").focus()
        else:
            self.query_one(RunView).focus()

    def _show_selected(self) -> None:
        """The launch pane for "new run", else the highlighted run's view."""
        runs = self.query_one(RunList)
        chosen = runs.selected_id
        switcher = self.query_one(ContentSwitcher)
        summary = runs.summaries.get(chosen)
        if summary is None:
            switcher.current = "launch-pane"
        else:
            switcher.current = "run-view"
            self.query_one(RunView).open_run(summary.run_dir)
        self.refresh_keys()

    @on(RunView.Progressed)
    def _run_progressed(self, message: RunView.Progressed) -> None:
        summary = message.feed.update.summary
        self.note_summary(summary)
        runs = self.query_one(RunList)
        if summary.id in runs.summaries:
            runs.show([summary if s.id == summary.id else s for s in runs.summaries.values()])
        self.refresh_keys()

    # -- the launch pane --------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#launch-profiles")
    def _profile_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._check_profile()

    @on(OptionList.OptionSelected, "#launch-profiles")
    def _profile_chosen(self, _event: OptionList.OptionSelected) -> None:
        self.action_start()

    def _check_profile(self) -> None:
        entry = self.query_one(LaunchPane).selected_entry
        self.check = None
        self.refresh_keys()
        if entry is None:
            return
        self.query_one(LaunchPane).show_checking(entry)
        self._check_seq += 1
        self._check(self._check_seq, entry, self.gpu_cards())

    @work(
        thread=True,
        group="launch-check",
        name="launch-check",
        description="Pre-flight the profile",
        exit_on_error=False,
    )
    def _check(
        self, seq: int, entry: ProfileEntry, gpus: tuple[GpuTraits, ...] | None
    ) -> tuple[int, LaunchCheck]:
        return seq, check_launch(entry.name, entry.path, gpus=gpus)

    def _checked(self, seq: int, check: LaunchCheck) -> None:
        if seq != self._check_seq:
            return  # the user moved on (or the GPUs changed): a newer check is on its way
        self.check = check
        self.query_one(LaunchPane).show_check(check)
        self.refresh_keys()

    def _snapshot_changed(self, snapshot: MachineSnapshot | None) -> None:
        gpus = self.gpu_cards()
        if gpus != self._gpus:  # the verdict depends on the GPUs seen (size, capability)
            self._gpus = gpus
            self._check_profile()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        super().on_worker_state_changed(event)
        worker = event.worker
        if event.state == WorkerState.SUCCESS and worker.name == "list-runs":
            self._show_runs(worker.result or [])
        elif event.state == WorkerState.SUCCESS and worker.name == "launch-check":
            self._checked(*worker.result)
        elif event.state == WorkerState.ERROR and worker.name == "launch-check":
            self.say(f"The pre-flight failed: {worker.error}", severity="error")

    # -- hooks for RunActions -----------------------------------------------------------

    def selected_summary(self) -> RunSummary | None:
        runs = self.query_one(RunList)
        summary = runs.summaries.get(runs.selected_id)
        latest = self.query_one(RunView).latest
        if summary is not None and latest is not None and latest.run_id == summary.id:
            return latest.update.summary
        return summary

    def launch_check(self) -> LaunchCheck | None:
        if self.query_one(RunList).selected_id != NEW_RUN:
            return None
        return self.check

    def run_started(self, summary: RunSummary) -> None:
        runs = self.query_one(RunList)
        listed = [s for s in runs.summaries.values() if s.id != summary.id]
        runs.show([summary, *listed])
        runs.select(summary.id)
        runs.focus()
        view = self.query_one(RunView)
        self._show_selected()
        view.request_poll(now=True)

    def refresh_keys(self) -> None:
        """Refresh the footer when a key comes or goes (the footer is rebuilt each time, too
        costly for every update of a live run)."""
        actions = (
            "start",
            "force_start",
            "stop",
            "resume",
            "try_run",
            "compare",
            "samples",
            "ship",
        )
        state = tuple(self.check_action(a, ()) for a in actions)
        if state != self._keys:
            self._keys = state
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return True
        summary = self.selected_summary()
        if action in ("start", "force_start", "resume") and self.launching:
            return None  # shown dimmed until the launch in flight has its run
        if action in ("start", "force_start"):
            on_launch = self.query_one(RunList).selected_id == NEW_RUN
            return on_launch and (action == "start" or bool(self.check and self.check.forcible))
        if action == "stop":
            return summary is not None and summary.active
        if action == "read_log":
            return summary is not None
        if action == "resume":
            return summary is not None and not summary.active and can_resume(summary)
        if action == "ship":
            return summary is not None and not summary.active and has_trained(summary)
        if action == "samples":
            return summary is not None and summary.engine == "grpo"
        if action == "compare":
            return len(self.query_one(RunList).marked) >= 2
        if action == "try_run":
            return summary is not None and not summary.active and has_trained(summary)
        return True

    def action_ship(self) -> None:
        """Export the open run: merged, an Ollama Modelfile, GGUF (runs on when cockpit closes)."""
        summary = self.selected_summary()
        if summary is not None and not summary.active and has_trained(summary):
            from cockpit.tui.screens.exports import ExportScreen

            self.app.push_screen(ExportScreen(summary))

    def action_samples(self) -> None:
        """GRPO's samples of the open run: completions and how each reward scored them."""
        summary = self.selected_summary()
        if summary is None or summary.engine != "grpo":
            return
        view = self.query_one(RunView)

        def read() -> tuple[tuple[dict, ...], str | None]:
            latest = view.latest
            if latest is None or latest.run_id != summary.id:
                return (), None
            return latest.update.samples, latest.update.no_signal

        from cockpit.tui.screens.samples import SamplesScreen

        self.app.push_screen(SamplesScreen(summary.id, read))

    def action_mark(self) -> None:
        """Mark the highlighted run to compare (space again unmarks it)."""
        runs = self.query_one(RunList)
        if runs.selected_id != NEW_RUN:
            runs.toggle_mark(runs.selected_id)
            self.refresh_keys()
            if len(runs.marked) == 1:
                self.say("Marked: mark another run with space, then v compares them")

    def action_compare(self) -> None:
        """The marked runs side by side: their curves overlaid, the profile keys that differ."""
        marked = self.query_one(RunList).marked
        if len(marked) < 2:
            self.say("Mark two runs or more with space to compare them", severity="warning")
            return
        from cockpit.runs.compare import compare_runs  # their views load when first asked for
        from cockpit.tui.screens.compare import CompareScreen  # (plotext: not at start-up)

        try:
            comparison = compare_runs(marked)
        except RunStoreError as error:
            self.say(str(error), severity="error")
            return
        self.app.clear_notifications()  # the marking hints would cover the chart
        self.app.push_screen(CompareScreen(comparison))

    def action_try_run(self) -> None:
        """Chat with what the open run trained (its adapter, else its newest checkpoint)."""
        summary = self.selected_summary()
        if summary is not None and not summary.active and has_trained(summary):
            from cockpit.tui.screens.chat import ChatScreen

            self.app.push_screen(ChatScreen(summary))

    def action_read_log(self) -> None:
        """Open the selected run's log in the Logs place, at its known problem if any."""
        summary = self.selected_summary()
        if summary is None:
            return
        from cockpit.runs.ssh_launch import host_logs  # here: the place opens without it
        from cockpit.tui.screens.prompt import ChoicePrompt

        problem = known_problem(summary) if not summary.active else None
        output = str(RunDir(summary.run_dir).output)
        hosts = host_logs(summary.run_dir)
        if not hosts:
            line = None if problem is None else problem.line
            self.cockpit.open_log(output, line=line, follow=summary.active)
            return
        choices = [(f"rank {i} · {host}", str(log)) for i, (host, log) in enumerate(hosts)]
        choices.append(("cockpit's own (output.log)", output))

        def chosen(path: str | None) -> None:
            if path is not None:
                self.cockpit.open_log(path, follow=summary.active)

        self.app.push_screen(ChoicePrompt("Read log", "Which host's log", choices), chosen)

    def action_new_run(self) -> None:
        """Show the launch pane and move to its profile list."""
        self.query_one(RunList).select(NEW_RUN)
        self.query_one("#launch-profiles").focus()

    def action_focus_list(self) -> None:
        """Back to the runs list."""
        self.query_one(RunList).focus()
