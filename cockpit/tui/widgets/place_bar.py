"""The top bar: the five places with their keys, the current one highlighted.

It also carries the SIMULATED badge whenever the hardware source is simulated, so a
screenshot or a glance can never mistake a demo for a real machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from cockpit.tui.places import Place


def bar_content(
    places: Sequence[Place], current: str, simulated: str | None, width: int = 200
) -> Content:
    """`` cockpit  1 Hardware  2 Doctor …`` with ``current`` reversed, badge at the end.

    The badge names the simulation when ``width`` leaves room, and just says SIMULATED
    otherwise.
    """
    parts: list[Content | tuple[str, str] | str] = [(" cockpit ", "bold $accent")]
    for place in places:
        if place.mode == current:
            parts.append((f" {place.key} {place.title} ", "bold reverse $accent"))
        else:
            parts.append(Content.assemble(" ", (place.key, "bold $accent"), f" {place.title} "))
    content = Content.assemble(*parts)
    if simulated:
        badge = f" SIMULATED {simulated} "
        if content.cell_length + 1 + len(badge) > width:
            badge = " SIMULATED "
        content = Content.assemble(content, " ", (badge, "bold reverse $warning"))
    return content


class PlaceBar(Widget):
    """One line at the top of every place."""

    DEFAULT_CSS = """
    PlaceBar {
        height: 1;
        width: 1fr;
        background: $panel;
    }
    """

    simulated: reactive[str | None] = reactive(None)
    """Name of the simulated machine, or None for real hardware."""

    def __init__(self, places: Sequence[Place], current: str) -> None:
        super().__init__()
        self.places = tuple(places)
        self.current = current

    def render(self) -> Content:
        return bar_content(self.places, self.current, self.simulated, self.size.width)
