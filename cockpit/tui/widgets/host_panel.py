"""The host beside the GPUs: CPU overall and per core, RAM, swap, load and free disk.

Training stalls as often on a full disk, swapping RAM or a pegged data-loader CPU as on
the GPU, so these stay on screen (and live) even when no GPU is visible.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label, Static

from cockpit.hardware.format import fmt_bytes, fmt_pct
from cockpit.hardware.snapshot import DiskUsage, HostSnapshot
from cockpit.tui.widgets.history_line import HistoryLine, history_content
from cockpit.tui.widgets.live_text import update_line
from cockpit.tui.widgets.meter import Meter

LABEL_WIDTH = 8


def fraction(used: int | None, total: int | None) -> float | None:
    """used / total, or None when either is unknown or the total is zero."""
    if used is None or not total:
        return None
    return used / total


def cores_content(per_cpu: Sequence[float], load: tuple[float, float, float] | None) -> Content:
    """One bar per core on the 0–100 scale (with its percentage when there are few cores),
    then the 1/5/15-minute load average."""
    if len(per_cpu) <= 4:
        parts = [history_content([pct], 1) + f"{pct:3.0f}% " for pct in per_cpu]
        bars = Content("").join(parts)
    else:
        bars = history_content(per_cpu, len(per_cpu))
    load_text = "n/a" if load is None else " ".join(f"{value:.2f}" for value in load)
    return Content.assemble(("cores".ljust(LABEL_WIDTH), "bold"), " ", bars, f"  load {load_text}")


def disk_meter_values(disk: DiskUsage) -> tuple[float | None, str]:
    """Used fraction and "120 GiB free / 500 GiB" for one disk."""
    used = None
    if disk.total_bytes is not None and disk.free_bytes is not None:
        used = disk.total_bytes - disk.free_bytes
    text = f"{fmt_bytes(disk.free_bytes)} free / {fmt_bytes(disk.total_bytes)}"
    return fraction(used, disk.total_bytes), text


class HostPanel(Vertical):
    """CPU, memory and disks of the machine; fed by :meth:`show`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._disk_labels: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Meter("CPU", label_width=LABEL_WIDTH, text_width=24, id="host-cpu")
        yield Static(id="host-cores")
        yield Meter("RAM", label_width=LABEL_WIDTH, text_width=24, id="host-ram")
        yield Meter("swap", label_width=LABEL_WIDTH, text_width=24, id="host-swap")
        yield Vertical(id="host-disks")
        with Horizontal(id="host-cpu-history"):
            yield Label("CPU 60s".ljust(LABEL_WIDTH + 1))
            yield HistoryLine(style="$secondary", id="host-cpu-line")

    def on_mount(self) -> None:
        self.border_title = "Host"

    def show(self, host: HostSnapshot, cpu_history: Sequence[float]) -> None:
        """Show ``host`` and the recent overall CPU percentages."""
        cpu_text = f"{fmt_pct(host.cpu_pct)} of {host.cpu_count} cores"
        self.query_one("#host-cpu", Meter).show(host.cpu_pct / 100, cpu_text)
        update_line(
            self.query_one("#host-cores", Static), cores_content(host.per_cpu_pct, host.load_avg)
        )
        ram_text = f"{fmt_bytes(host.ram_used_bytes)} / {fmt_bytes(host.ram_total_bytes)}"
        self.query_one("#host-ram", Meter).show(
            fraction(host.ram_used_bytes, host.ram_total_bytes), ram_text
        )
        swap_text = (
            f"{fmt_bytes(host.swap_used_bytes)} / {fmt_bytes(host.swap_total_bytes)}"
            if host.swap_total_bytes
            else "no swap"
        )
        self.query_one("#host-swap", Meter).show(
            fraction(host.swap_used_bytes, host.swap_total_bytes), swap_text
        )
        self._show_disks(host.disks)
        self.query_one("#host-cpu-line", HistoryLine).values = tuple(cpu_history)

    def _show_disks(self, disks: Sequence[DiskUsage]) -> None:
        """One meter per disk; the meters are rebuilt only when the set of disks changes."""
        container = self.query_one("#host-disks", Vertical)
        labels = tuple(disk.label for disk in disks)
        if labels == self._disk_labels:
            for meter, disk in zip(container.query(Meter), disks, strict=True):
                meter.show(*disk_meter_values(disk))
            return
        self._disk_labels = labels
        meters = []
        for disk in disks:
            meter = Meter(disk.label, label_width=LABEL_WIDTH, text_width=24)
            meter.show(*disk_meter_values(disk))
            meter.tooltip = disk.path
            meters.append(meter)
        container.remove_children()
        container.mount_all(meters)
