"""One GPU at a glance: VRAM bar, utilisation, temperature, power, clocks and history.

A value the driver did not give is shown as "n/a" (through ``cockpit.hardware.format``),
never as zero. A simulated GPU says so in its border, in a colour nobody misses. Apple's
GPU (unified memory) shows the host's RAM it shares and the part of it a run may plan on,
instead of the CUDA driver's lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label, Static

from cockpit.hardware.format import fmt_bytes, fmt_cc, fmt_mhz, fmt_pct, fmt_temp, fmt_watts
from cockpit.hardware.snapshot import GpuSnapshot, unified_gpu_share
from cockpit.tui.widgets.history_line import HistoryLine
from cockpit.tui.widgets.live_text import update_line
from cockpit.tui.widgets.meter import Meter

SIMULATED_BADGE = Content.styled(" SIMULATED ", "bold reverse $warning")


def vram_text(gpu: GpuSnapshot) -> str:
    """ "2.1 GiB / 4.0 GiB  52%" with n/a for whatever the driver did not report."""
    used, total = fmt_bytes(gpu.memory_used_bytes), fmt_bytes(gpu.memory_total_bytes)
    fraction = gpu.memory_fraction
    pct = fmt_pct(None if fraction is None else fraction * 100)
    return f"{used} / {total}  {pct}"


def stats_text(gpu: GpuSnapshot) -> str:
    """Utilisation, temperature, power and fan on one line (on a Mac: the GPU's share)."""
    if gpu.unified_memory:
        share = fmt_bytes(unified_gpu_share(gpu.memory_total_bytes or 0))
        return f"unified memory: shared with the CPU; the GPU may use ~{share}"
    power = f"{fmt_watts(gpu.power_draw_w)} / {fmt_watts(gpu.power_limit_w)}"
    return (
        f"util {fmt_pct(gpu.utilization_pct)} · temp {fmt_temp(gpu.temperature_c)}"
        f" · power {power} · fan {fmt_pct(gpu.fan_pct)}"
    )


def info_text(gpu: GpuSnapshot) -> str:
    """Clocks, driver, the CUDA version the driver supports and compute capability."""
    if gpu.unified_memory:
        bf16 = {True: "yes", False: "no (macOS 14 or newer has it)", None: "n/a"}[gpu.bf16]
        return f"Metal · PyTorch mps · {gpu.driver_version or 'macOS n/a'} · bf16 {bf16}"
    return (
        f"SM {fmt_mhz(gpu.clock_sm_mhz)} · mem {fmt_mhz(gpu.clock_mem_mhz)}"
        f" · driver {gpu.driver_version or 'n/a'} · CUDA {gpu.cuda_driver_version or 'n/a'}"
        f" · cc {fmt_cc(gpu.compute_capability)}"
    )


class GpuCard(Vertical):
    """A bordered card for the GPU with index ``index``; fed by :meth:`show`."""

    def __init__(self, index: int) -> None:
        super().__init__(id=f"gpu-{index}", classes="gpu-card")
        self.index = index
        self._latest: tuple[GpuSnapshot, Sequence[float], Sequence[float]] | None = None

    def compose(self) -> ComposeResult:
        yield Meter("VRAM", text_width=26, classes="vram")
        yield Static(classes="gpu-stats", markup=False)
        yield Static(classes="gpu-info", markup=False)
        with Horizontal(classes="gpu-history util-row"):
            yield Label("util 60s ")
            yield HistoryLine(style="$accent", classes="util-history")
        with Horizontal(classes="gpu-history"):
            yield Label("VRAM 60s ", classes="mem-history-label")
            yield HistoryLine(maximum=1.0, classes="mem-history")

    def on_mount(self) -> None:
        if self._latest is not None:
            self._apply(*self._latest)

    def show(self, gpu: GpuSnapshot, utilization: Sequence[float], memory: Sequence[float]) -> None:
        """Show ``gpu``, its recent utilisation (percent) and VRAM use (fraction).

        May be called before the card is mounted; the values are shown once it is.
        """
        self._latest = (gpu, utilization, memory)
        if self.is_mounted:
            self._apply(gpu, utilization, memory)

    def _apply(
        self, gpu: GpuSnapshot, utilization: Sequence[float], memory: Sequence[float]
    ) -> None:
        title = Content(f"GPU {gpu.index} · {gpu.name}")
        if gpu.simulated:
            title = Content.assemble(title, " ", SIMULATED_BADGE)
        if self.border_title != title:
            self.border_title = title
        self.set_class(gpu.simulated, "-simulated")
        self._label_memory("RAM" if gpu.unified_memory else "VRAM")
        self.query_one(".util-row").display = not gpu.unified_memory  # macOS does not say
        self.query_one(".vram", Meter).show(gpu.memory_fraction, vram_text(gpu))
        update_line(self.query_one(".gpu-stats", Static), stats_text(gpu))
        update_line(self.query_one(".gpu-info", Static), info_text(gpu))
        self.query_one(".util-history", HistoryLine).values = tuple(utilization)
        self.query_one(".mem-history", HistoryLine).values = tuple(memory)

    def _label_memory(self, name: str) -> None:
        """ "VRAM", or "RAM" for a GPU whose memory is the host's (Apple Silicon)."""
        meter = self.query_one(".vram", Meter)
        if meter.label != name:
            meter.label = name
            meter.refresh()
            self.query_one(".mem-history-label", Label).update(f"{name} 60s ".ljust(9))
