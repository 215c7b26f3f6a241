"""The one door to psutil: CPU, RAM, swap, load, disk space and who owns a GPU process.

Disk space is reported where big things land — the runs directory and the Hugging Face
cache — because a full disk in the middle of a checkpoint is a common way to lose a run.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import platformdirs
import psutil

from cockpit.hardware.snapshot import DiskUsage, HostSnapshot

_MIN_CPU_WINDOW_S = 0.1
_RUN_COMMAND = re.compile(
    r"""(?:^|\s)(?:-m|--module)\s+engines\s+run\s+(?:"([^"]+)"|'([^']+)'|(\S+))"""
)


def hf_hub_cache(env: Mapping[str, str] | None = None) -> str:
    """Where huggingface_hub keeps downloaded models, by the same rules it uses."""
    env = os.environ if env is None else env
    explicit = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return os.path.expanduser(explicit)
    home = env.get("HF_HOME")
    if not home:
        cache = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        home = os.path.join(cache, "huggingface")
    return os.path.join(os.path.expanduser(home), "hub")


def default_disk_paths(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The labelled places whose free space the Hardware place shows by default."""
    runs = os.path.join(platformdirs.user_data_dir("cockpit"), "runs")
    return {"runs": runs, "HF cache": hf_hub_cache(env)}


def nearest_existing(path: str) -> str:
    """``path`` itself, or its closest parent that exists (a cache not created yet)."""
    current = Path(path).expanduser().absolute()
    while not current.exists() and current != current.parent:
        current = current.parent
    return str(current)


def disk_usage(label: str, path: str) -> DiskUsage:
    """Free space on the disk that holds ``path`` (measured at its nearest existing parent)."""
    where = nearest_existing(path)
    try:
        usage = psutil.disk_usage(where)
    except OSError:
        return DiskUsage(label, where, None, None)
    return DiskUsage(label, where, usage.total, usage.free)


def memory_bytes() -> tuple[int, int]:
    """(total, used) RAM, used as the host panel counts it: total less what is available.

    On Apple Silicon this is also the GPU's memory (unified): cockpit.hardware.apple reads it.
    """
    memory = psutil.virtual_memory()
    return memory.total, memory.total - memory.available


def _load_avg() -> tuple[float, float, float] | None:
    try:
        one, five, fifteen = psutil.getloadavg()
    except (AttributeError, OSError):
        return None
    return (one, five, fifteen)


def _join(args: list[str]) -> str:
    """A readable command line; arguments with spaces are double-quoted."""
    return " ".join(f'"{a}"' if any(c.isspace() for c in a) else a for a in args)


def _describe(pid: int) -> tuple[str | None, str | None]:
    try:
        proc = psutil.Process(pid)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return (None, None)
    user = command = None
    with contextlib.suppress(psutil.Error, KeyError):  # KeyError: uid not in passwd
        user = proc.username()
    with contextlib.suppress(psutil.Error):
        command = _join(proc.cmdline()) or proc.name() or None
    return (user, command)


def describe_processes(pids: Iterable[int]) -> dict[int, tuple[str | None, str | None]]:
    """``{pid: (user, command line)}``; values are None for a pid gone or not ours to see.

    In a container with its own pid namespace NVML reports host pids, which are not
    visible here: they come back as (None, None).
    """
    return {pid: _describe(pid) for pid in pids}


def cockpit_run_id(command: str | None) -> str | None:
    """The run id when ``command`` is a cockpit engine (``-m engines run RUN_DIR``)."""
    if not command:
        return None
    match = _RUN_COMMAND.search(command)
    if match is None:
        return None
    run_dir = next(group for group in match.groups() if group).rstrip("/\\")
    return re.split(r"[/\\]", run_dir)[-1] or None


class HostSampler:
    """Samples the host; cheap and non-blocking, meant to be called about once a second."""

    def __init__(self, disk_paths: dict[str, str] | None = None) -> None:
        self._disk_paths = default_disk_paths() if disk_paths is None else dict(disk_paths)
        # cpu_percent(interval=None) measures since the previous call: prime both counters.
        psutil.cpu_percent(interval=None)
        psutil.cpu_percent(interval=None, percpu=True)
        self._cpu_read_at = time.monotonic()

    @property
    def disk_paths(self) -> dict[str, str]:
        """The labelled paths whose free space is reported."""
        return dict(self._disk_paths)

    def sample(self) -> HostSnapshot:
        """CPU since the last call, memory, swap, load and disk space now."""
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        cpu_pct, per_cpu = self._cpu()
        return HostSnapshot(
            cpu_pct=cpu_pct,
            per_cpu_pct=per_cpu,
            cpu_count=psutil.cpu_count(logical=True) or len(per_cpu) or 1,
            ram_total_bytes=memory.total,
            ram_used_bytes=memory.total - memory.available,
            ram_available_bytes=memory.available,
            swap_total_bytes=swap.total,
            swap_used_bytes=swap.used,
            load_avg=_load_avg(),
            disks=tuple(disk_usage(label, p) for label, p in self._disk_paths.items()),
        )

    def _cpu(self) -> tuple[float, tuple[float, ...]]:
        # A reading over a few milliseconds is noise (`cockpit watch --once` samples right
        # after priming), so only then wait out the rest of a short window.
        wait = _MIN_CPU_WINDOW_S - (time.monotonic() - self._cpu_read_at)
        if wait > 0:
            time.sleep(wait)
        per_cpu = tuple(float(p) for p in psutil.cpu_percent(interval=None, percpu=True))
        total = float(psutil.cpu_percent(interval=None))
        self._cpu_read_at = time.monotonic()
        return total, per_cpu

    def describe_processes(self, pids: Iterable[int]) -> dict[int, tuple[str | None, str | None]]:
        """See the module function ``describe_processes``."""
        return describe_processes(pids)
