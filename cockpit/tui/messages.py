"""Messages that cross screens: posted by the app's workers, handled by the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from cockpit.hardware.snapshot import MachineSnapshot


@dataclass
class HardwareSampled(Message):
    """The sampler thread took a snapshot of the machine."""

    snapshot: MachineSnapshot
