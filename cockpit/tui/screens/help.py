"""The help dialog (``?``): every key that works right now, grouped by where it lives.

It is built from the bindings Textual reports as active on the place underneath, so it
cannot drift from what the keys really do.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


class HelpEntry(NamedTuple):
    """One line of help."""

    section: str
    keys: str
    description: str


MOVE_KEYS = HelpEntry("Navigation", "↑ ↓ pgup pgdn", "Move in tables, scroll panes")


def _section(
    binding: Binding, node: object, screen: Screen, place: str, app_keys: set[str]
) -> str | None:
    """Where a binding belongs, or None to leave it out.

    Widget bindings (a table's arrow keys…) are summed up by ``MOVE_KEYS`` instead; a
    place's own copy of an app key (``,`` shown in its footer) stays under Global.
    """
    if binding.system or not binding.description:
        return None
    if isinstance(node, App) or binding.description in app_keys:
        return "Global"
    if node is not screen:
        return None
    own = type(screen).__dict__.get("BINDINGS", [])  # not those inherited from Screen
    return place if binding in own else "Navigation"


def collect_help(app: App, screen: Screen, place: str) -> list[HelpEntry]:
    """Entries for the bindings active on ``screen``; keys of one action are merged."""
    merged: dict[tuple[str, str], list[str]] = {}
    app_keys = {b.description for b in Binding.make_bindings(app.BINDINGS)}
    for active in screen.active_bindings.values():
        section = _section(active.binding, active.node, screen, place, app_keys)
        if section is None:
            continue
        keys = merged.setdefault((section, active.binding.description), [])
        display = app.get_key_display(active.binding)
        if display not in keys:
            keys.append(display)
    order = {"Global": 0, place: 1, "Navigation": 2}
    entries = [HelpEntry(section, "/".join(keys), desc) for (section, desc), keys in merged.items()]
    entries.append(MOVE_KEYS)
    return sorted(entries, key=lambda entry: order.get(entry.section, 3))


def help_content(entries: list[HelpEntry]) -> Content:
    """Sections with a bold heading and aligned ``key  description`` lines."""
    lines: list[Content] = []
    section = None
    for entry in entries:
        if entry.section != section:
            if lines:
                lines.append(Content(""))
            section = entry.section
            lines.append(Content.styled(section, "bold $accent"))
        lines.append(Content.assemble("  ", (entry.keys.ljust(15), "bold"), entry.description))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Lists the keys; escape (or ``?``) closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close help"),
        Binding("question_mark", "close", "Close help", key_display="?"),
    ]

    def __init__(self, place: str, entries: list[HelpEntry]) -> None:
        super().__init__()
        self.place = place
        self.entries = entries

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_content(self.entries), id="help-keys")
            yield Static("escape closes this help · q quits cockpit", id="help-close")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = f"Keys · {self.place}"

    def action_close(self) -> None:
        self.dismiss(None)
