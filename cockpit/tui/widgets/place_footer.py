"""The footer of a place: Textual's own, rebuilt only when the keys it shows change.

Textual's Footer removes and mounts all its keys whenever the screen's bindings may have
changed: on every focus move and every arrival at a place, though the keys are mostly the
same. Each rebuild styles a dozen new widgets against the app's whole stylesheet, which
made switching between places several times slower than in a minimal app. A place that
is not showing (another place is) keeps its keys until it shows again.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.widgets import Footer


class PlaceFooter(Footer):
    """A Footer that skips a rebuild that would show the same keys."""

    _shown: Hashable = None
    """What the keys mounted now were built from (None: nothing built yet)."""

    def _keys(self) -> Hashable:
        """Everything about the active bindings that the footer's keys show."""
        get_key_display = self.app.get_key_display
        bindings = tuple(
            (key, b.action, b.description, get_key_display(b), b.show, b.group, enabled, tooltip)
            for key, (_, b, enabled, tooltip) in self.screen.active_bindings.items()
        )
        return bindings, self.show_command_palette, self.compact

    def compose(self) -> ComposeResult:
        self._shown = self._keys() if self._bindings_ready else None
        yield from super().compose()

    async def recompose(self) -> None:
        built = self._shown is not None and self.is_attached
        if built and (self.screen not in self.app.screen_stack or self._keys() == self._shown):
            return  # another place is showing, or the same keys would be built again
        await super().recompose()
