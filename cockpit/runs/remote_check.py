"""Pre-flight of a run that trains elsewhere (`[launch] where = "slurm" | "ssh"`).

What can be known from the submitting machine is checked: Slurm's commands on PATH and the
partition among the cluster's; a run directory that the nodes are unlikely to see (a
node-local /tmp) is warned about. The nodes' GPUs cannot be read from here, so the VRAM
verdict plans for `[hardware] gpu_memory_gib` when set and says so when not.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

from cockpit.hardware.snapshot import GpuTraits
from cockpit.runs import slurm
from cockpit.runs.refusal import Refusal
from engines.profile_schema import Profile

_NODE_LOCAL = ("/tmp", "/var/tmp", "/dev/shm", "/run")
_SINFO_TIMEOUT_S = 10.0


def remote_cards(profile: Profile) -> tuple[GpuTraits, ...]:
    """The card each process of a remote run plans for: `[hardware] gpu_memory_gib`."""
    size = profile.hardware.gpu_memory_gib
    per_machine = profile.launch.per_machine or 1
    return tuple(GpuTraits("", size) for _ in range(per_machine)) if size > 0 else ()


def asks_remote_gpus(profile: Profile) -> bool:
    """True for a run on other machines' GPUs (whose CUDA cannot be checked from here)."""
    launch = profile.launch
    return (
        launch.gpus_per_node > 0
        if launch.where == "slurm"
        else (launch.where == "ssh" and launch.gpus_per_host > 0)
    )


def remote_processes(profile: Profile) -> int:
    return profile.launch.machines * (profile.launch.per_machine or 1)


def launch_refusals(profile: Profile, runs_root: Path) -> tuple[list[Refusal], list[str]]:
    """(refusals, notes) for where the run goes."""
    if profile.launch.where == "slurm":
        return _slurm(profile, runs_root)
    return [], []


def _slurm(profile: Profile, runs_root: Path) -> tuple[list[Refusal], list[str]]:
    refusals, notes = [], []
    missing = slurm.missing_commands()
    if missing:
        message = f"Slurm's {', '.join(missing)} not on PATH: this machine cannot submit jobs"
        fix = 'run cockpit on the cluster\'s login node, or set launch.where = "local"'
        return [Refusal("launch.where", message, fix, "hardware", value='"slurm"')], notes
    partitions = _partitions()
    partition = profile.launch.partition
    if partition and partitions and partition not in partitions:
        close = difflib.get_close_matches(partition, partitions, n=1, cutoff=0.5)
        fix = f'set launch.partition = "{close[0]}"' if close else "set launch.partition to one"
        message = f"no such partition; the cluster has {', '.join(partitions)}"
        refusals.append(
            Refusal("launch.partition", message, fix, "hardware", value=f'"{partition}"')
        )
    if str(runs_root.resolve()).startswith(_NODE_LOCAL):
        notes.append(
            f"the runs folder {runs_root} looks node-local: the nodes write the run's events "
            "and checkpoints there, so it must be on a filesystem they share (set runs_dir)"
        )
    if profile.launch.gpus_per_node > 0 and profile.hardware.gpu_memory_gib <= 0:
        notes.append(
            "the nodes' GPUs cannot be read from here: set hardware.gpu_memory_gib to their "
            "card's memory for a VRAM verdict"
        )
    return refusals, notes


def _partitions() -> list[str]:
    """The cluster's partition names (`sinfo`); [] when it cannot be asked."""
    if shutil.which("sinfo") is None:
        return []
    try:
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%R"],
            capture_output=True,
            text=True,
            timeout=_SINFO_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    names = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    return sorted(set(names)) if result.returncode == 0 else []
