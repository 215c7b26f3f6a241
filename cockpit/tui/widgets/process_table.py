"""Who holds GPU memory: one row per process per GPU, cockpit's own runs marked.

Memory the driver does not report (WSL2/WDDM, some MIG setups) reads "n/a"; a GPU whose
process list is not available at all is named in the table's caption instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from cockpit.hardware.format import fmt_bytes
from cockpit.hardware.snapshot import GpuProcess, GpuSnapshot

Row = tuple[Text, ...]

COLUMNS: tuple[tuple[str, int], ...] = (
    ("GPU", 3),
    ("PID", 7),
    ("user", 10),
    ("memory", 9),
    ("run", 16),
)
"""Fixed columns and their widths; the command gets whatever width is left."""
MIN_COMMAND_WIDTH = 12


def run_marker(process: GpuProcess) -> Text:
    """ "▶ run <id>" for a cockpit training run, empty otherwise."""
    if process.cockpit_run is None:
        return Text("")
    return Text(f"▶ run {process.cockpit_run}", style="bold")


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis when it is longer."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def process_rows(gpus: Sequence[GpuSnapshot], command_width: int) -> list[Row]:
    """Rows for every process on every GPU, biggest memory first within a GPU."""
    rows: list[Row] = []
    for gpu in gpus:
        processes = sorted(gpu.processes or (), key=lambda p: -(p.used_memory_bytes or -1))
        for process in processes:
            rows.append(
                (
                    Text(str(gpu.index)),
                    Text(str(process.pid)),
                    Text(shorten(process.user or "n/a", 10)),
                    Text(fmt_bytes(process.used_memory_bytes), justify="right"),
                    run_marker(process),
                    Text(shorten(process.command or "n/a", command_width)),
                )
            )
    return rows


def caption(gpus: Sequence[GpuSnapshot], row_count: int) -> str:
    """What the table cannot show: GPUs without a process list, or no processes at all."""
    missing = [str(gpu.index) for gpu in gpus if gpu.processes is None]
    if missing:
        return f"process list not available for GPU {', '.join(missing)}"
    return "no processes on the GPU" if row_count == 0 else ""


def _plain(rows: Sequence[Row]) -> list[tuple[tuple[str, str], ...]]:
    """Rows as comparable values: the text and style of every cell."""
    return [tuple((cell.plain, str(cell.style)) for cell in row) for row in rows]


class ProcessTable(DataTable):
    """Per-process GPU memory; refreshed by :meth:`show` without losing the cursor row."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._gpus: tuple[GpuSnapshot, ...] = ()
        self._rows: list[Row] = []

    def on_mount(self) -> None:
        self.border_title = "GPU processes"
        for label, width in COLUMNS:
            self.add_column(label, key=label, width=width)
        self.add_column("command", key="command")

    def on_resize(self, _event: events.Resize) -> None:
        self.show(self._gpus)
        self._fit_height()

    def show(self, gpus: Sequence[GpuSnapshot]) -> None:
        """Replace the rows with the processes of ``gpus``."""
        self._gpus = tuple(gpus)
        if not self.size.width:  # not laid out yet, and a Resize may not follow: redo after
            self.call_after_refresh(self._show_laid_out)
        rows = process_rows(gpus, self._command_width())
        subtitle = caption(gpus, len(rows))
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle
        if _plain(rows) == _plain(self._rows):  # rich Text compares by identity
            return
        self._rows = rows
        self._fit_height()
        cursor = self.cursor_row
        self.clear()
        self.add_rows(rows)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1), animate=False)

    def _show_laid_out(self, tries: int = 20) -> None:
        """Show the rows again at the width the first layout gives (some refreshes away)."""
        if self.size.width:
            self.show(self._gpus)
        elif tries:
            self.call_after_refresh(self._show_laid_out, tries - 1)

    def _fit_height(self) -> None:
        """Narrow screens: as tall as the rows (CSS caps it). Wide ones: CSS fills the column."""
        if self.screen.has_class("-wide"):
            self.styles.height = None
        else:
            self.styles.height = 3 + max(1, len(self._rows))  # border, header, rows

    def _command_width(self) -> int:
        padding = 2 * self.cell_padding
        fixed = sum(width + padding for _, width in COLUMNS)
        # Leave room for a vertical scrollbar even before one appears.
        room = self.size.width - self.styles.scrollbar_size_vertical
        return max(MIN_COMMAND_WIDTH, room - fixed - padding)
