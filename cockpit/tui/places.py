"""The six places of cockpit: their keys, mode names and titles, in one table.

The app builds its modes, bindings and palette commands from this table and the top bar
draws it, so a place is added or renamed in exactly one spot.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from textual.screen import Screen


class Place(NamedTuple):
    """One place: the key that opens it, its Textual mode name and its title."""

    key: str
    mode: str
    title: str
    purpose: str
    """What the place answers, shown in the command palette."""
    screen: str
    """``module:Class`` of its screen, imported on the first visit (or by the palette)."""


PLACES: tuple[Place, ...] = (
    Place(
        "1",
        "hardware",
        "Hardware",
        "Live GPUs, processes, CPU, RAM and disks",
        "cockpit.tui.screens.hardware:HardwareScreen",
    ),
    Place(
        "2",
        "doctor",
        "Doctor",
        "Environment health checks, each with its fix",
        "cockpit.tui.screens.doctor:DoctorScreen",
    ),
    Place(
        "3",
        "profiles",
        "Profiles",
        "Training profiles and their VRAM estimate",
        "cockpit.tui.screens.profiles:ProfilesScreen",
    ),
    Place(
        "4",
        "runs",
        "Runs",
        "Launch training runs and watch their progress",
        "cockpit.tui.screens.runs:RunsScreen",
    ),
    Place(
        "5",
        "logs",
        "Logs",
        "Tail logs with known errors explained",
        "cockpit.tui.screens.logs:LogsScreen",
    ),
    Place(
        "6",
        "data",
        "Data",
        "A profile's data as the trainer sees it: token lengths, findings, preview",
        "cockpit.tui.screens.data:DataScreen",
    ),
)

PLACE_BY_MODE: dict[str, Place] = {place.mode: place for place in PLACES}


def screen_class(place: Place) -> type[Screen]:
    """The place's screen class (importing its module the first time)."""
    module, _, name = place.screen.partition(":")
    return getattr(importlib.import_module(module), name)
