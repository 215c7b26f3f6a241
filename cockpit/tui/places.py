"""The five places of cockpit: their keys, mode names and titles, in one table.

The app builds its modes, bindings and palette commands from this table and the top bar
draws it, so a place is added or renamed in exactly one spot.
"""

from __future__ import annotations

from typing import NamedTuple


class Place(NamedTuple):
    """One place: the key that opens it, its Textual mode name and its title."""

    key: str
    mode: str
    title: str
    purpose: str
    """What the place answers, shown in the command palette."""


PLACES: tuple[Place, ...] = (
    Place("1", "hardware", "Hardware", "Live GPUs, processes, CPU, RAM and disks"),
    Place("2", "doctor", "Doctor", "Environment health checks, each with its fix"),
    Place("3", "profiles", "Profiles", "Training profiles and their VRAM estimate"),
    Place("4", "runs", "Runs", "Launch training runs and watch their progress"),
    Place("5", "logs", "Logs", "Tail logs with known errors explained"),
)

PLACE_BY_MODE: dict[str, Place] = {place.mode: place for place in PLACES}
