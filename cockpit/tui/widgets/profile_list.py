"""The list of profiles, shipped and the user's, each with its verdict for the planned card.

Every file found is listed, including ones that do not parse: their badge says so and
the line under the list (the screen's) shows the error, so a broken file is found here
instead of at launch time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from cockpit.profiles.plan import Assessment
from cockpit.profiles.store import LoadedProfile, ProfileEntry, is_shipped


@dataclass(frozen=True)
class ListedProfile:
    """One file of the list: where it is, what it holds, how it fares on the card."""

    entry: ProfileEntry
    loaded: LoadedProfile
    assessment: Assessment

    @property
    def name(self) -> str:
        return self.entry.name


def display_path(path: Path) -> str:
    """A shipped file as ``profiles/NAME.toml``, a file under the home folder with ``~``."""
    if is_shipped(path):
        return f"profiles/{path.name}"
    try:
        return "~/" + path.resolve().relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        return str(path)


VERDICT_STYLES: dict[str, str] = {
    "fits": "$success",
    "tight": "$warning",
    "won't fit": "$error",
}


def verdict_style(verdict: str) -> str:
    """Colour of a verdict; anything else (no GPU, invalid, unknown model) is muted."""
    return VERDICT_STYLES.get(verdict, "$text-muted")


def badge(verdict: str, style: str) -> Content:
    """``▐tight▌``: the verdict as a coloured pill (no leading blank, which SVG drops)."""
    return Content.assemble(("▐", style), (verdict, f"bold reverse {style}"), ("▌", style))


def entry_prompt(item: ListedProfile) -> Content:
    """Two lines: the name; then the verdict badge, the total (or what is wrong), the origin."""
    assessment = item.assessment
    result = assessment.estimate
    detail = item.entry.origin
    if result is not None:
        detail = f"{result.total_gib:.2f} GiB · {detail}"
    return Content.assemble(
        (item.name, "bold"),
        "\n",
        badge(assessment.verdict, verdict_style(assessment.verdict)),
        " ",
        (detail, "$text-muted"),
    )


class ProfileList(OptionList):
    """Profiles as options whose ids are their file names; ``selected`` is the highlighted one."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[ListedProfile] = []

    def show(self, items: list[ListedProfile], keep: str | None = None) -> None:
        """Replace the list, keeping the highlight on ``keep`` (a name) when it is there."""
        current = keep if keep is not None else self.selected_name
        self.items = items
        self.set_options(Option(entry_prompt(item), id=item.name) for item in items)
        names = [item.name for item in items]
        if names:
            self.highlighted = names.index(current) if current in names else 0

    @property
    def selected(self) -> ListedProfile | None:
        index = self.highlighted
        if index is None or index >= len(self.items):
            return None
        return self.items[index]

    @property
    def selected_name(self) -> str | None:
        item = self.selected
        return None if item is None else item.name
