"""The list of runs, newest first, with a "new run" entry on top that opens the launch pane.

Each run shows its status in its colour, the step reached, the profile, when it started
(local time) and a short id, so two runs of one profile can be told apart. The short id is
the id's time stamp: a prefix that `cockpit logs`, `report` and the Logs place's `o` accept.
A list too narrow for one line per run (beside the view in a wide terminal) gives each run
two. The list is refreshed every few seconds; a refresh that changes no line redraws
nothing, and one that only changes lines keeps the highlight where it is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cockpit.runs.status import RunSummary

NEW_RUN = "new-run"
"""Option id of the "new run" entry."""

STATUS_STYLES: dict[str, str] = {
    "queued": "$text-muted",
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


ONE_LINE_MIN = 64
"""Narrower than this (cells inside the border), each run takes two lines."""
_STAMP = re.compile(r"\d{8}-\d{6}")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
"""As the run store turns a profile name into the rest of a run id."""


def started_text(summary: RunSummary) -> str:
    """When the run started, in local time: ``Nov 20 10:15`` ("" when unknown)."""
    when = summary.started or summary.created
    return "" if when is None else time.strftime("%b %d %H:%M", time.localtime(when))


def short_id(summary: RunSummary) -> str:
    """The id's time stamp (UTC, a unique prefix of the id), with the ``-2`` that a second
    run of the profile in the same second gets; an id of another shape, cut to 16 cells."""
    run_id = summary.id
    stamp = _STAMP.match(run_id)
    if stamp is None:
        return run_id if len(run_id) <= 16 else run_id[:15] + "…"
    slug = _SLUG.sub("-", summary.profile).strip("-.")[:60]
    rest = run_id[stamp.end() :].removeprefix("-" + slug) if slug else ""
    return stamp.group() + (rest if rest[1:].isdigit() and rest[0] == "-" else "")


def run_prompt(
    summary: RunSummary, widths: tuple[int, int] = (10, 0), *, two_lines: bool = False
) -> Content:
    """``running  12/30  tiny-demo-cpu  Nov 20 10:15  20261120-101500``: the step and the
    profile padded to ``widths`` (the profile cut to fit); the run id when the profile is
    unknown. With ``two_lines``, when and the short id go on a second line."""
    step = "-" if summary.step is None else str(summary.step)
    total = "?" if summary.total_steps is None else str(summary.total_steps)
    stopping = summary.active and summary.reason == "stopping"
    status = "stopping" if stopping else summary.status
    step_w, profile_w = widths
    name = summary.profile or summary.id
    if len(name) > profile_w > 1 and not two_lines:
        name = name[: profile_w - 1] + "…"
    when = [started_text(summary)] + ([short_id(summary)] if summary.profile else [])
    return Content.assemble(
        (f"{status:<8} ", STATUS_STYLES.get(summary.status, "$text-muted")),  # "unreadable "
        (f"{step + '/' + total:<{step_w}}", "$text-muted"),
        (name if two_lines else f"{name:<{profile_w}}", "bold"),
        ("\n  " if two_lines else "  ", ""),
        ("  ".join(w for w in when if w), "$text-muted"),
    )


def new_run_prompt() -> Content:
    return Content.assemble(("+ ", "bold $accent"), ("new run", "bold"), (" (n)", "$text-muted"))


class RunList(OptionList):
    """ "new run" and every run; option ids are run ids."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Option(new_run_prompt(), id=NEW_RUN), id=id)
        self.summaries: dict[str, RunSummary] = {}
        self._prompts: dict[str, Content] = {}
        self.marked: list[str] = []
        """Runs marked (space) to compare, in the order they were marked."""

    def toggle_mark(self, run_id: str) -> None:
        """Mark the run to compare, or unmark it."""
        if run_id in self.marked:
            self.marked.remove(run_id)
        elif run_id in self.summaries:
            self.marked.append(run_id)
        self._relayout()

    def show(self, summaries: Sequence[RunSummary]) -> None:
        """Show these runs (newest first), keeping the highlighted entry highlighted."""
        self.summaries = {s.id: s for s in summaries}
        self.marked = [run_id for run_id in self.marked if run_id in self.summaries]
        lines = self._laid_out(summaries)
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

    def _laid_out(self, summaries: Sequence[RunSummary]) -> dict[str, Content]:
        """Each run's prompt, laid out for the list's width: steps and profiles in columns
        (a profile cut where needed, so when and the id stay in sight), or two lines each."""
        width = self.scrollable_content_region.width
        two_lines = 0 < width < ONE_LINE_MIN
        steps = [len(f"{s.step}/{s.total_steps}") for s in summaries]
        step_w = max(steps, default=3) + 2
        ids = [len(short_id(s)) for s in summaries]
        fixed = 9 + step_w + 2 + 12 + 2 + max(ids, default=0)  # status, step, when, id
        names = [len(s.profile or s.id) for s in summaries]
        profile_w = min(max(names, default=0), max(width - fixed, 12))
        widths = (step_w, profile_w)
        return {s.id: self._marked(s.id, run_prompt(s, widths, two_lines=two_lines))
                for s in summaries}  # fmt: skip

    def _marked(self, run_id: str, prompt: Content) -> Content:
        if run_id not in self.marked:
            return prompt
        number = self.marked.index(run_id) + 1
        return Content.assemble(prompt, (f"  [{number}]", "bold $accent"))

    def on_resize(self) -> None:
        self._relayout()

    def watch_show_vertical_scrollbar(self) -> None:
        self._relayout()  # the scrollbar takes two cells from the lines

    def _relayout(self) -> None:
        """Lay the runs out again for the new width."""
        lines = self._laid_out(list(self.summaries.values()))
        for run_id, line in lines.items():
            if self._prompts.get(run_id) != line:
                self.replace_option_prompt(run_id, line)
        self._prompts = lines
