"""LogView: a virtual log viewer; only the lines on screen are ever read or rendered.

Each visible row is read from the file on demand (a few KB per screen, however large the
file), cleaned for display (last tqdm redraw, no colours or control bytes), redacted,
and drawn with its line number and a gutter mark for known findings. A small cache keeps
scrolling cheap. Rows map to file lines through an optional filter (findings only).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cockpit.knowledge.matcher import Match
from cockpit.logs.source import MAX_LINE_BYTES, LogFile
from cockpit.logtext import decode, display_line
from cockpit.redact import redact

CACHE_LINES = 2000
MARKS = {"error": "●", "warning": "▲"}


class LogView(ScrollView, can_focus=True):
    """Lines of a :class:`LogFile` with line numbers, finding marks and a cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown,space", "page(1)", "Page down", show=False),
        Binding("home,g", "first", "First line", show=False),
        Binding("end,G", "last", "Last line", show=False),
        Binding("left", "pan(-8)", "Scroll left", show=False),
        Binding("right", "pan(8)", "Scroll right", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log-view--gutter",
        "log-view--cursor",
        "log-view--error",
        "log-view--warning",
        "log-view--match",
    }
    DEFAULT_CSS = """
    LogView { background: $surface; }
    LogView > .log-view--gutter { color: $text-muted; }
    LogView > .log-view--cursor { background: $accent 35%; }
    LogView > .log-view--error { color: $error; background: $error 12%; }
    LogView > .log-view--warning { color: $warning; background: $warning 10%; }
    LogView > .log-view--match { background: $warning 45%; color: $text; }
    """

    cursor: reactive[int] = reactive(0, init=False)
    """The selected row (an index into the rows shown, not always a file line)."""

    class CursorMoved(Message):
        """The cursor is on another file line."""

        def __init__(self, line: int) -> None:
            super().__init__()
            self.line = line

    class Scrolled(Message):
        """The user moved away from the end (follow mode should stop)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.log_file: LogFile | None = None
        self.search = ""
        self._rows: list[int] | None = None
        self._marks: dict[int, Match] = {}
        self._cache: OrderedDict[tuple[int, str], tuple[Strip, int]] = OrderedDict()
        self._widest = 0

    # -- what is shown -------------------------------------------------------------------

    def show(self, log_file: LogFile | None) -> None:
        """Show another file (or nothing), from its first line."""
        self.log_file = log_file
        self._rows = None
        self._widest = 0
        self.set_reactive(LogView.cursor, 0)
        self.reindexed(reset=True)
        self.scroll_to(0, 0, animate=False)

    def reindexed(self, *, reset: bool = False) -> None:
        """The file's index grew (or was rebuilt): resize and repaint."""
        log = self.log_file
        if reset:
            self._cache.clear()
        self._marks = {} if log is None else {m.line - 1: m for m in log.all_findings}
        if self._rows is not None:
            self._rows = sorted(self._marks)
        if self.cursor >= self.row_count:
            self.set_reactive(LogView.cursor, max(self.row_count - 1, 0))
        self._resize()
        self.refresh()

    def set_findings_only(self, on: bool) -> None:
        line = self.cursor_line
        self._rows = sorted(self._marks) if on else None
        self._resize()
        self.go_to_line(line if line is not None else 0)
        self.refresh()

    @property
    def findings_only(self) -> bool:
        return self._rows is not None

    def set_search(self, needle: str) -> None:
        self.search = needle
        self._cache.clear()
        self.refresh()

    @property
    def row_count(self) -> int:
        if self._rows is not None:
            return len(self._rows)
        return 0 if self.log_file is None else self.log_file.line_count

    def line_at(self, row: int) -> int | None:
        """The 0-based file line shown at `row`."""
        if row < 0 or row >= self.row_count:
            return None
        return self._rows[row] if self._rows is not None else row

    @property
    def cursor_line(self) -> int | None:
        return self.line_at(self.cursor)

    def finding_at(self, line: int | None) -> Match | None:
        return None if line is None else self._marks.get(line)

    def go_to_line(self, line: int, *, center: bool = True) -> None:
        """Put the cursor on file line `line` (the nearest shown row when filtered)."""
        if self._rows is not None:
            from bisect import bisect_left

            row = min(bisect_left(self._rows, line), max(len(self._rows) - 1, 0))
        else:
            row = line
        self.cursor = max(min(row, self.row_count - 1), 0)
        self._keep_visible(center=center)

    def _resize(self) -> None:
        digits = len(str(max(self.row_count, 1) if self._rows is None else max(self._rows or [1])))
        self._gutter = digits + 3
        self.virtual_size = Size(self._gutter + self._widest, self.row_count)

    def _widen(self) -> None:
        # A wider line may bring the horizontal scrollbar, one row less: keep the cursor in view.
        self._resize()
        self.call_after_refresh(self._keep_visible)

    # -- cursor and scrolling -------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top = self.scroll_offset.y
        for row in (old, new):
            if top <= row < top + self._page_height:
                self.refresh_line(row - top)
        line = self.line_at(new)
        if line is not None:
            self.post_message(self.CursorMoved(line))

    def _keep_visible(self, *, center: bool = False) -> None:
        height = max(self._page_height, 1)
        top = self.scroll_offset.y
        if center and not top <= self.cursor < top + height:
            self.scroll_to(y=max(self.cursor - height // 2, 0), animate=False)
        elif self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    @property
    def _page_height(self) -> int:
        """Rows of text on screen (the horizontal scrollbar takes one when shown)."""
        return self.scrollable_content_region.height

    def _move(self, row: int) -> None:
        before = self.cursor
        self.cursor = max(min(row, self.row_count - 1), 0)
        self._keep_visible()
        if self.cursor < before:
            self.post_message(self.Scrolled())

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(self._page_height - 1, 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self.go_to_end()

    def go_to_end(self) -> None:
        self.cursor = max(self.row_count - 1, 0)
        self.scroll_to(y=self.max_scroll_y, animate=False)

    def action_pan(self, delta: int) -> None:
        self.scroll_to(x=max(self.scroll_offset.x + delta, 0), animate=False)

    # -- rendering ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        line = self.line_at(row)
        width = self.size.width
        if line is None:
            return Strip.blank(width, self.rich_style)
        gutter = self._gutter_strip(line)
        text_width = max(width - gutter.cell_length, 0)
        body, body_width = self._body(line)
        if body_width > self._widest:
            self._widest = body_width
            self.call_after_refresh(self._widen)
        x = self.scroll_offset.x
        body = body.crop_extend(x, x + text_width, None)
        cursor = self.get_component_rich_style("log-view--cursor") if row == self.cursor else None
        segments = Segment.apply_style([*gutter, *body], style=self.rich_style, post_style=cursor)
        return Strip(segments, width)

    def _gutter_strip(self, line: int) -> Strip:
        number = f"{line + 1:>{self._gutter - 3}} "
        gutter_style = self.get_component_rich_style("log-view--gutter")
        finding = self._marks.get(line)
        if finding is None:
            return Strip([Segment(number, gutter_style), Segment("  ")])
        mark_style = self.get_component_rich_style(f"log-view--{finding.severity}")
        return Strip(
            [Segment(number, gutter_style), Segment(MARKS[finding.severity] + " ", mark_style)]
        )

    def _body(self, line: int) -> tuple[Strip, int]:
        key = (line, self.search)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        text = self._text(line)
        strip = Strip(list(text.render(self.app.console)))
        result = (strip, strip.cell_length)
        self._cache[key] = result
        if len(self._cache) > CACHE_LINES:
            self._cache.popitem(last=False)
        return result

    def _text(self, line: int) -> Text:
        log = self.log_file
        assert log is not None
        raw, length = log.line_bytes(line)
        shown = display_line(decode(raw))
        if length > MAX_LINE_BYTES:
            shown += f" … (line continues: {length:,} bytes in all)"
        text = Text(redact(shown), no_wrap=True, end="")
        finding = self._marks.get(line)
        if finding is not None:
            text.stylize(self.get_component_rich_style(f"log-view--{finding.severity}"))
        if self.search:
            text.highlight_words(
                [self.search],
                style=self.get_component_rich_style("log-view--match") or Style(reverse=True),
                case_sensitive=False,
            )
        return text
