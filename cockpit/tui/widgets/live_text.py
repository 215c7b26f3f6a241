"""Cheap 1 Hz updates: re-render a line only when it changed, re-layout only when its
length did (a longer line may wrap, a same-length one cannot change the layout)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


def update_line(static: Static, content: Content | str) -> None:
    """Show ``content`` in ``static`` without a full re-layout when nothing moves."""
    old = static.content
    if old == content:
        return
    old_len = len(old) if isinstance(old, (str, Content)) else -1
    static.update(content, layout=old_len != len(content))
