"""The Hardware place: "what is my machine doing right now?"

GPU cards (Apple's GPU on a Mac, or the no-GPU panel), the per-process GPU memory table and
the host panel, fed by the snapshots the app samples in the background. Sampling goes on
while another place is shown, so the history is complete when the user comes back.

With `[[hosts]]` in the settings, `f` toggles the fleet view: a box per host, streamed over
ssh from the first time it is shown until the app closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import AwaitMount
from textual.widgets import Static

from cockpit.hardware.snapshot import GpuSnapshot, MachineSnapshot
from cockpit.tui.screens.base import SETTINGS_KEY, PlaceScreen
from cockpit.tui.widgets.fleet_view import FleetView
from cockpit.tui.widgets.gpu_card import GpuCard
from cockpit.tui.widgets.host_panel import HostPanel
from cockpit.tui.widgets.no_gpu_panel import NoGpuPanel
from cockpit.tui.widgets.process_table import ProcessTable

if TYPE_CHECKING:
    from cockpit.remote.fleet import Fleet

FLEET_MIN_INTERVAL_S = 1.0
"""The fleet's hosts are asked at the refresh rate, but not more than once a second."""


class HardwareScreen(PlaceScreen):
    """Live GPUs, their processes, and the host."""

    PLACE = "hardware"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_fleet", "Fleet"),
        SETTINGS_KEY,
    ]

    def __init__(self) -> None:
        super().__init__()
        self._fleet: Fleet | None = None
        self._panels: AwaitMount | None = None  # set once the panels are being mounted
        self._panels_ready = False  # True once they and their children are mounted

    def compose_body(self) -> ComposeResult:
        # Only the waiting line at first: the panels are mounted with the first snapshot,
        # so the first frame (and the user's first look) does not wait for them.
        with VerticalScroll(id="hw-body"):
            yield Static("Sampling hardware…", id="hw-waiting")
        if self.cockpit.settings.hosts:
            yield FleetView(id="hw-fleet")

    def on_mount(self) -> None:
        self.watch(self.cockpit, "snapshot", self.show_snapshot)

    def on_unmount(self) -> None:
        if self._fleet is not None:
            self._fleet.close()

    @property
    def fleet_shown(self) -> bool:
        return self.has_class("-fleet")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_fleet":  # hidden without [[hosts]]
            return bool(self.cockpit.settings.hosts)
        return super().check_action(action, parameters)

    def action_toggle_fleet(self) -> None:
        """Show the fleet of [[hosts]] instead of this machine, or this machine again."""
        shown = not self.fleet_shown
        self.set_class(shown, "-fleet")
        if not shown:
            return
        if self._fleet is None:
            interval = max(self.cockpit.refresh_s, FLEET_MIN_INTERVAL_S)
            changed = self.query_one(FleetView).Changed
            self._fleet = self.cockpit.fleet_factory(
                self.cockpit.settings.hosts, interval, lambda: self.post_message(changed())
            )
            self._fleet.start()
        self._show_fleet()
        self.query_one(FleetView).focus()

    def on_fleet_view_changed(self, _message: FleetView.Changed) -> None:
        self._show_fleet()

    def _show_fleet(self) -> None:
        if self._fleet is not None and self.fleet_shown:
            self.query_one(FleetView).show(self._fleet.states(), self._fleet.clock())

    def _mount_panels(self) -> AwaitMount:
        """Mount the GPU, process and host panels (once)."""
        if self._panels is None:
            body = self.query_one("#hw-body", VerticalScroll)
            main = Vertical(
                NoGpuPanel(id="hw-no-gpu"),
                Vertical(id="hw-gpus"),
                ProcessTable(id="hw-processes"),
                id="hw-main",
            )
            self._panels = body.mount_all([main, HostPanel(id="hw-host")])
        return self._panels

    async def _show_once_mounted(self, snapshot: MachineSnapshot) -> None:
        # AwaitMount resolves when each panel *and what it composed* is mounted: a widget
        # in the DOM is not enough (its children may not exist yet)
        await self._mount_panels()
        self._panels_ready = True
        self.show_snapshot(self.cockpit.snapshot or snapshot)

    def show_snapshot(self, snapshot: MachineSnapshot | None) -> None:
        """Bring every widget up to date with ``snapshot`` (None: nothing sampled yet)."""
        self.set_class(snapshot is None, "-waiting")
        self._show_fleet()  # each tick: a silent host turns stale, a retry counts down
        if snapshot is None:
            return
        if not self._panels_ready:
            self.call_later(self._show_once_mounted, snapshot)
            return
        gpu_ok = snapshot.nvml.available and bool(snapshot.gpus)
        self.set_class(not gpu_ok, "-no-gpu")
        self.set_class(snapshot.simulated, "-simulated")
        table = self.query_one(ProcessTable)
        # macOS reports no per-process GPU memory: no table for Apple's GPU
        table.display = gpu_ok and not all(gpu.unified_memory for gpu in snapshot.gpus)
        if gpu_ok:
            self._show_gpus(snapshot.gpus)
            table.show(snapshot.gpus)
        else:
            self.query_one(NoGpuPanel).show(snapshot.nvml)
        history = self.cockpit.history
        self.query_one(HostPanel).show(snapshot.host, history.cpu())

    def _show_gpus(self, gpus: Sequence[GpuSnapshot]) -> None:
        """One card per GPU; cards are rebuilt only when the set of GPUs changes."""
        container = self.query_one("#hw-gpus", Vertical)
        cards = list(container.query(GpuCard))
        history = self.cockpit.history
        rebuild = [card.index for card in cards] != [gpu.index for gpu in gpus]
        if rebuild:
            cards = [GpuCard(gpu.index) for gpu in gpus]
        for card, gpu in zip(cards, gpus, strict=True):
            card.show(gpu, history.utilization(gpu.index), history.memory(gpu.index))
        container.set_class(len(gpus) > 1, "-multi")
        if rebuild:
            container.remove_children()
            container.mount_all(cards)
