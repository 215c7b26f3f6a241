"""Textual's stylesheet, parsing each CSS source once while the theme's variables stay.

Textual clears its parse cache whenever variables are set, even to the same values, and
re-parses every source in a fresh stylesheet on each CSS refresh. Starting cockpit did
both: the app's CSS (17 KB) and every widget's default CSS were parsed three times,
~140 ms of CPU on this machine, spent around the first frame (the frame itself comes no
sooner; the app takes keys sooner). A real change of variables (another theme) still
clears the cache and parses everything again.
"""

from __future__ import annotations

from textual.css.stylesheet import Stylesheet


class CachingStylesheet(Stylesheet):
    """A `Stylesheet` whose parse cache survives setting the same variables again."""

    def set_variables(self, variables: dict[str, str]) -> None:
        if variables != self._variables:
            super().set_variables(variables)

    def reparse(self) -> None:
        # Textual re-parses in a fresh stylesheet so that invalid CSS leaves this one as it
        # was; parse() keeps the old rules too when a source fails, and reuses the cache.
        self._require_parse = True
        self.parse()
