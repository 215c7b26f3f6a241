"""What the Runs place does to runs: start (or force), stop, resume, copy the command; and
the notification when a run ends.

Every call into the supervisor blocks (spawning waits for the engine's pid, stopping waits
for the checkpoint), so each runs in a named thread worker and the screen hears back
through `Worker.StateChanged`. Refusals and failures become notifications with the reason,
never a traceback. `RunsScreen` lays the place out; this base class holds the actions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, WorkerState

from cockpit.hardware.snapshot import GpuTraits, gpu_traits
from cockpit.runs.endings import Severity, can_resume, ending_note
from cockpit.runs.launch_check import LaunchCheck
from cockpit.runs.preflight import PreflightError
from cockpit.runs.runjson import RunMetaError, read_meta
from cockpit.runs.status import RunSummary
from cockpit.runs.store import RunDir, RunStoreError, pid_alive, summarize_dir
from cockpit.runs.supervisor import resume_run, start_run, stop_run
from cockpit.tui.screens.base import PlaceScreen
from cockpit.tui.screens.profile_dialogs import ConfirmDialog
from engines.protocol import RUN_FILE

_CONTROL = "run-control"
EXIT_WAIT_S = 30.0
"""How long a resume waits for the previous launch's processes to finish exiting."""


def _first_reason(check: LaunchCheck) -> str:
    if check.missing:
        missing = ", ".join(check.missing)
        return f"the training stack is missing ({missing}): {check.install_command}"
    return check.first_reason  # names f, not --force


def _wait_for_exit(run_dir: Path, timeout: float) -> None:
    """Wait (in a worker) while the run's processes outlive its end event (saving, tearing
    down): "stopped" shows as soon as the engine says so, and r may be pressed at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            meta = read_meta(run_dir / RUN_FILE)
        except RunMetaError:
            return
        if not pid_alive(meta, run_dir.name):
            return
        time.sleep(0.1)


def _launch(summary: RunSummary) -> tuple[str, int]:
    """Which launch of which run a summary describes (a resume is a new launch)."""
    return summary.id, int(summary.extra.get("launches") or 1)


class RunActions(PlaceScreen):
    """Start, stop and resume runs in workers; notify once when a run ends."""

    def __init__(self) -> None:
        super().__init__()
        self._active_launches: set[tuple[str, int]] = set()
        """(run id, launch number) of every launch seen starting or running."""
        self._announced: set[tuple[str, int]] = set()
        self._stopping: set[str] = set()
        """Runs this screen is stopping right now."""
        self._launching: str | None = None
        """What a start or resume worker is launching right now (one launch at a time)."""

    def say(
        self,
        message: str,
        *,
        title: str = "",
        severity: Severity = "information",
        timeout: float | None = None,
    ) -> None:
        """A notification in plain text: run ids, paths and pip extras hold brackets."""
        self.notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # -- hooks the screen implements ----------------------------------------------------

    if TYPE_CHECKING:  # provided by RunsScreen, which owns the list and the panes

        def selected_summary(self) -> RunSummary | None:
            """The run whose view is open; None on the launch pane."""

        def launch_check(self) -> LaunchCheck | None:
            """The launch pane's verdict on its profile; None elsewhere or while checking."""

        def run_started(self, summary: RunSummary) -> None:
            """A run was started or resumed from here: list it and open it."""

        def refresh_keys(self) -> None:
            """Refresh the footer when a key comes or goes."""

    def gpu_cards(self) -> tuple[GpuTraits, ...] | None:
        """The GPUs of the app's latest snapshot (size, compute capability, driver), for
        pre-flight; None before the first one."""
        snapshot = self.cockpit.snapshot
        return None if snapshot is None else gpu_traits(snapshot.gpus)

    # -- start --------------------------------------------------------------------------

    @property
    def launching(self) -> bool:
        """A start or resume is in flight: s, f and r wait until its run exists."""
        return self._launching is not None

    def _claim_launch(self, what: str) -> bool:
        """Take the one launch slot (set before the worker starts, so a second key press
        queued behind the first finds it taken); False, with a note, while it is taken."""
        if self._launching is not None:
            self.say(f"{self._launching} is already starting; wait for it")
            return False
        self._launching = what
        self.refresh_keys()
        return True

    def _release_launch(self) -> None:
        self._launching = None
        self.refresh_keys()

    def action_start(self) -> None:
        """Start the highlighted profile (the launch pane's verdict must be "ready")."""
        check = self.launch_check()
        if check is None:
            self.say("Still checking the profile; press s again in a moment")
            return
        if not check.ok:
            self.say(_first_reason(check), title="Refused to start", severity="error")
            return
        if self._claim_launch(check.name):
            self.say(f"Starting {check.name}…")
            self._start(check.preflight.profile_path, False, check, self.gpu_cards())

    def action_force_start(self) -> None:
        """Start a profile the estimate says won't fit, after asking."""
        check = self.launch_check()
        if check is None or not check.forcible:
            return
        refusal, path = check.preflight.refusals[0], check.preflight.profile_path
        question = (
            f"{check.name}: {refusal.message}.\nIt will probably stop at its first step with "
            "CUDA out of memory. Start it anyway?"
        )
        self.app.push_screen(
            ConfirmDialog("Start anyway?", question, yes="start anyway", no="don't start"),
            lambda yes: self._force(path, check.name) if yes else None,
        )

    def _force(self, path: Path, name: str) -> None:
        if self._claim_launch(name):
            self._start(path, True, None, self.gpu_cards())

    @work(
        thread=True,
        group=_CONTROL,
        name="start-run",
        description="Start a run",
        exit_on_error=False,
    )
    def _start(
        self,
        path: Path,
        force: bool,
        check: LaunchCheck | None,
        gpus: tuple[GpuTraits, ...] | None,
    ) -> RunSummary:
        checked = None if force or check is None else check.preflight
        return summarize_dir(start_run(path, force=force, checked=checked, gpus=gpus))

    # -- stop and resume ----------------------------------------------------------------

    def action_stop(self) -> None:
        """Stop the open run gracefully (checkpoint, then end), after asking."""
        summary = self.selected_summary()
        if summary is None or not summary.active:
            return
        if summary.reason == "stopping" or summary.id in self._stopping:
            # a second SIGINT would kill the engine before its checkpoint
            self.say(f"{summary.id} is already stopping; waiting for its checkpoint")
            return
        question = (
            f"Stop {summary.id}?\nThe engine finishes its current step, saves a checkpoint "
            "and ends; r resumes it later."
        )
        self.app.push_screen(
            ConfirmDialog("Stop the run?", question, yes="stop it", no="keep it running"),
            lambda yes: self._ask_stop(summary) if yes else None,
        )

    def _ask_stop(self, summary: RunSummary) -> None:
        self._stopping.add(summary.id)
        self.say(f"Stopping {summary.id}: waiting for its checkpoint…", severity="warning")
        self._stop(summary.id, summary.run_dir.parent)

    @work(
        thread=True, group=_CONTROL, name="stop-run", description="Stop a run", exit_on_error=False
    )
    def _stop(self, run_id: str, root: Path) -> RunSummary:
        try:
            return stop_run(run_id, root=root)
        finally:
            self._stopping.discard(run_id)  # one atomic set operation: safe from a thread

    def action_resume(self) -> None:
        """Resume the open run from its last checkpoint."""
        summary = self.selected_summary()
        if summary is None or summary.active:
            return
        if not can_resume(summary):
            self.say(
                f"{summary.id} left no checkpoint to resume from; start a new run instead (n)",
                severity="warning",
            )
            return
        if not self._claim_launch(summary.id):
            return
        self._stopping.discard(summary.id)  # that stop is over: this is a new launch
        self.say(f"Resuming {summary.id} from its last checkpoint…")
        self._resume(summary.id, summary.run_dir.parent, self.gpu_cards())

    @work(
        thread=True,
        group=_CONTROL,
        name="resume-run",
        description="Resume a run",
        exit_on_error=False,
    )
    def _resume(self, run_id: str, root: Path, gpus: tuple[GpuTraits, ...] | None) -> RunSummary:
        _wait_for_exit(root / run_id, EXIT_WAIT_S)
        run = resume_run(run_id, root=root, gpus=gpus)
        return summarize_dir(RunDir(run.path))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != _CONTROL:
            return
        if event.state == WorkerState.SUCCESS and isinstance(worker.result, RunSummary):
            self._control_done(worker.name, worker.result)
        elif event.state == WorkerState.ERROR and worker.error is not None:
            self._control_failed(worker.name, worker.error)
        ended = event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
        if ended and worker.name in ("start-run", "resume-run"):
            self._release_launch()  # the run is listed and open (or the launch failed)

    def _control_done(self, name: str, summary: RunSummary) -> None:
        if name in ("start-run", "resume-run"):
            # Seen starting even if it already ended: a run that dies at once is announced.
            self._active_launches.add(_launch(summary))
            self.run_started(summary)
        self.note_summary(summary)

    def _control_failed(self, name: str, error: BaseException) -> None:
        what = {"start-run": "start", "resume-run": "resume", "stop-run": "stop"}.get(name, name)
        if isinstance(error, PreflightError):
            text = error.preflight.describe()
        elif isinstance(error, RunStoreError):
            text = str(error)
        else:
            text = f"{type(error).__name__}: {error}"
        self.say(text, title=f"Could not {what} the run", severity="error", timeout=15)

    # -- copy -----------------------------------------------------------------------------

    def action_copy_command(self) -> None:
        """Copy the open run's engine command, or `cockpit train PROFILE` on the launch pane."""
        summary = self.selected_summary()
        if summary is not None:
            text = str(summary.extra.get("command_text") or "")
        else:
            check = self.launch_check()
            text = (check.script or check.twin) if check is not None else ""
        if not text:
            self.say("No command to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        lines = text.count("\n")
        self.say(f"Copied the batch script ({lines} lines)" if lines > 1 else f"Copied: {text}")

    # -- endings --------------------------------------------------------------------------

    def note_summaries(self, summaries: Sequence[RunSummary]) -> None:
        for summary in summaries:
            self.note_summary(summary)

    def note_summary(self, summary: RunSummary) -> None:
        """Notify (and ring the bell) once when a launch seen running has ended."""
        launch = _launch(summary)
        if summary.active:
            self._active_launches.add(launch)
            return
        if summary.status in ("unknown", "unreadable") or launch not in self._active_launches:
            return
        if launch in self._announced:
            return
        self._announced.add(launch)
        title, message, severity = ending_note(summary, can_resume(summary))
        self.say(message, title=title, severity=severity, timeout=15)
        self.app.bell()
