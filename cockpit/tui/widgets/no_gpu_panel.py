"""Shown in place of the GPU cards when NVML finds no NVIDIA GPU or driver.

It repeats NVML's own words, says what they mean, and points at the two ways forward:
the Doctor (what is wrong with this machine) and a simulated card (explore anyway).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from cockpit.hardware.snapshot import NvmlStatus

SIMULATE_COMMAND = "cockpit --simulate rtx3050-4gb"


def hints() -> Content:
    """The two next steps, keys and commands highlighted."""
    return Content.assemble(
        "• Press ",
        ("2", "bold $accent"),
        " for the Doctor: it checks the driver, CUDA and your training stack.\n• Run ",
        (SIMULATE_COMMAND, "bold $accent"),
        " to explore cockpit with a simulated card.",
    )


class NoGpuPanel(Vertical):
    """NVML's error, its explanation and what to do next."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)

    def compose(self) -> ComposeResult:
        yield Static(id="no-gpu-error", markup=False)
        yield Static(id="no-gpu-explanation", markup=False)
        yield Static(hints(), id="no-gpu-hints")

    def on_mount(self) -> None:
        self.border_title = "No NVIDIA GPU visible"

    def show(self, status: NvmlStatus) -> None:
        """Show what NVML said."""
        self.query_one("#no-gpu-error", Static).update(
            Content.assemble(("NVML: ", "bold"), status.error or "no error message given")
        )
        self.query_one("#no-gpu-explanation", Static).update(
            status.explanation or "NVML could not list any GPU on this machine."
        )
