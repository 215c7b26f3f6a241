"""The list of runs, newest first, with a "new run" entry on top that opens the launch pane.

Each run is one line: its status in its colour, the profile, the step reached. The list is
refreshed every few seconds; a refresh that changes no line redraws nothing, and one that
only changes lines keeps the highlight where it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cockpit.runs.status import RunSummary

NEW_RUN = "new-run"
"""Option id of the "new run" entry."""

STATUS_STYLES: dict[str, str] = {
    "starting": "$text-muted",
    "running": "bold $accent",
    "finished": "$success",
    "failed": "$error",
    "crashed": "bold $error",
    "stopped": "$warning",
    "unknown": "$text-muted",
}


def status_content(status: str) -> Content:
    """The status word in its colour."""
    return Content.styled(status, STATUS_STYLES.get(status, "$text-muted"))


def run_prompt(summary: RunSummary) -> Content:
    """``running   12/30  tiny-demo-cpu``; the run id when the profile is unknown."""
    step = "-" if summary.step is None else str(summary.step)
    total = "?" if summary.total_steps is None else str(summary.total_steps)
    stopping = summary.active and summary.reason == "stopping"
    status = "stopping" if stopping else summary.status
    return Content.assemble(
        (f"{status:<8} ", STATUS_STYLES.get(summary.status, "$text-muted")),  # "unreadable "
        (f"{step + '/' + total:<10}", "$text-muted"),
        (summary.profile or summary.id, "bold"),
    )


def new_run_prompt() -> Content:
    return Content.assemble(("+ ", "bold $accent"), ("new run", "bold"), (" (n)", "$text-muted"))


class RunList(OptionList):
    """ "new run" and every run; option ids are run ids."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Option(new_run_prompt(), id=NEW_RUN), id=id)
        self.summaries: dict[str, RunSummary] = {}
        self._prompts: dict[str, Content] = {}

    def show(self, summaries: Sequence[RunSummary]) -> None:
        """Show these runs (newest first), keeping the highlighted entry highlighted."""
        lines = {s.id: run_prompt(s) for s in summaries}
        self.summaries = {s.id: s for s in summaries}
        if list(lines) == list(self._prompts):
            for run_id, line in lines.items():
                if self._prompts[run_id] != line:
                    self.replace_option_prompt(run_id, line)
            self._prompts = lines
            return
        current = self.selected_id
        self._prompts = lines
        options = [Option(new_run_prompt(), id=NEW_RUN)]
        options += [Option(line, id=run_id) for run_id, line in lines.items()]
        self.set_options(options)
        self.select(current if current in lines else NEW_RUN)

    def select(self, option_id: str) -> None:
        """Highlight the entry with this id (the "new run" entry when there is none)."""
        ids = [NEW_RUN, *self._prompts]
        self.highlighted = ids.index(option_id) if option_id in ids else 0

    @property
    def selected_id(self) -> str:
        """The highlighted entry's id (NEW_RUN for the "new run" entry)."""
        option = self.highlighted_option
        return option.id if option is not None and option.id else NEW_RUN
