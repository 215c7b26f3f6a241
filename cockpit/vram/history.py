"""The user's measured peaks, as calibration samples: finished runs and probe records.

A run is a sample when it ended "finished" or "stopped" after at least one step on CUDA
and its engine named the GPU (`start` event: `device` "cuda…", `gpu_name`; `step` events:
`peak_mem_bytes` = torch's max_memory_allocated, `peak_reserved_bytes`). The estimate beside
it is the current estimator's for the run's frozen profile.toml (what the correction will be
applied to), else the one run.json recorded at launch (`estimate` key). A run that crashed
(an OOM's peak is only a lower bound) or ran on the CPU is not a sample.

Probe records (`cockpit estimate --probe` and the GPU truth kit, appended by
`cockpit.vram.measurements`) are a JSONL file, one object per line with `Sample`'s fields:
    {"source": "probe", "id": "...", "t": 1767000000.0, "gpu_name": "NVIDIA GeForce RTX 3060",
     "backend": "peft", "method": "qlora", "quantization": "4bit",
     "estimated_allocated_gib": 5.1, "estimated_reserved_gib": 5.6,
     "measured_allocated_gib": 5.4, "measured_reserved_gib": 5.9, "versions": {...}}
Lines that do not parse or miss a field are skipped.

Reading is cached per run directory (by its events file's size and time: one stat per run),
so the Profiles place re-reads nothing on a keystroke; only the first 64 KiB and the last
256 KiB of a long events.jsonl are read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cockpit.paths import runs_root
from cockpit.vram.calibration import History, Sample, estimate_record
from cockpit.vram.measurements import measurements_path
from cockpit.vram.terms import GIB
from engines import protocol
from engines.profile_schema import read_profile

_HEAD, _TAIL = 64 * 1024, 256 * 1024
_ENDED = ("finished", "stopped")
_Key = tuple[int, ...]
_cache: dict[Path, tuple[_Key, Sample | None]] = {}
_probe_cache: dict[Path, tuple[_Key, list[Sample]]] = {}


def user_history(gpu_name: str | None, root: Path | None = None) -> History | None:
    """The samples of every run under `root` (default: the runs folder) and the probe
    records, for an estimate on `gpu_name`; None without a GPU name."""
    if not gpu_name:
        return None
    root = runs_root() if root is None else root
    samples = [s for s in run_samples(root) if s.gpu_name == gpu_name]
    samples += [s for s in probe_samples(measurements_path()) if s.gpu_name == gpu_name]
    return History(gpu_name, tuple(samples))


def run_samples(root: Path) -> list[Sample]:
    """A sample for each run under `root` that gives one; unreadable runs give none."""
    try:
        with os.scandir(root) as entries:  # the entries' types come with the listing
            dirs = [Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir()]
    except OSError:
        return []
    found = [run_sample(d) for d in dirs]
    return [s for s in found if s is not None]


def run_sample(run_dir: Path) -> Sample | None:
    """The run's sample, or None; cached until one of its files changes."""
    key = _key(run_dir)
    cached = _cache.get(run_dir)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        sample = _read_sample(run_dir)
    except (OSError, ValueError, TypeError, KeyError):
        sample = None
    _cache[run_dir] = (key, sample)
    return sample


def _key(run_dir: Path) -> _Key:
    """The events file's time and size: a run becomes a sample (or another one, resumed)
    only by appending events; its frozen profile does not change."""
    try:
        info = os.stat(run_dir / protocol.EVENTS_FILE)
    except OSError:
        return (0, -1)
    return (info.st_mtime_ns, info.st_size)


def _read_sample(run_dir: Path) -> Sample | None:
    start, end, step = _last_events(run_dir / protocol.EVENTS_FILE)
    if not (start and end and step) or end.get("status") not in _ENDED:
        return None
    device, gpu = start.get("device"), start.get("gpu_name")
    allocated = _positive(step.get("peak_mem_bytes"))
    on_cuda = isinstance(device, str) and device.startswith("cuda")
    if not (on_cuda and isinstance(gpu, str) and allocated is not None):
        return None
    estimated = _estimate_of(run_dir)
    if estimated is None:
        return None
    reserved = _positive(step.get("peak_reserved_bytes"))
    versions = start.get("versions") if isinstance(start.get("versions"), dict) else {}
    return Sample(
        source="run",
        id=run_dir.name,
        t=_positive(end.get("t")) or 0.0,
        gpu_name=gpu,
        backend=str(estimated["backend"]),
        method=str(estimated["method"]),
        quantization=str(estimated["quantization"]),
        estimated_allocated_gib=float(estimated["peak_allocated_gib"]),
        estimated_reserved_gib=float(estimated["peak_reserved_gib"]),
        measured_allocated_gib=allocated / GIB,
        measured_reserved_gib=None if reserved is None else reserved / GIB,
        versions={str(k): str(v) for k, v in versions.items()},
    )


def _estimate_of(run_dir: Path) -> dict[str, Any] | None:
    """The current estimator's record for the frozen profile, else the one from launch."""
    from cockpit.vram.estimate import estimate  # estimate imports calibration, not history

    try:
        profile = read_profile(run_dir / protocol.PROFILE_FILE)
        return estimate_record(estimate(profile, suggest=False), profile)
    except Exception:  # an unknown model, a damaged file: the record from launch, if any
        pass
    recorded = _json_file(run_dir / protocol.RUN_FILE).get("estimate")
    needed = ("peak_allocated_gib", "peak_reserved_gib", "backend", "method", "quantization")
    if not isinstance(recorded, dict) or any(k not in recorded for k in needed):
        return None
    return recorded if _positive(recorded["peak_allocated_gib"]) else None


def _json_file(path: Path) -> dict[str, Any]:
    """A small JSON object file (run.json), {} when it is not one (vram reads no cockpit.runs)."""
    try:
        with protocol.open_regular(path) as handle:
            data = protocol.loads_strict(handle.read(1024 * 1024).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _last_events(path: Path) -> tuple[dict | None, dict | None, dict | None]:
    """(last start, last end, last step with a peak after that start) of an events file."""
    start = end = step = None
    for event in _head_and_tail(path):
        kind = event.get("kind")
        if kind == "start":
            start, end, step = event, None, None
        elif kind == "end":
            end = event
        elif kind == "step" and _positive(event.get("peak_mem_bytes")) is not None:
            step = event
    return start, end, step


def _head_and_tail(path: Path) -> Iterator[dict[str, Any]]:
    """The events of the file's first 64 KiB, then of its last 256 KiB (the whole file when
    it is shorter); the tail's first line, probably cut, is dropped."""
    with protocol.open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size <= _HEAD + _TAIL:
            chunks = [handle.read()]
        else:
            head = handle.read(_HEAD)
            handle.seek(size - _TAIL)
            tail = handle.read()
            chunks = [head.rsplit(b"\n", 1)[0], tail.split(b"\n", 1)[-1]]
    for chunk in chunks:
        for line in chunk.split(b"\n"):
            event = _event(line)
            if event is not None:
                yield event


def _event(line: bytes) -> dict[str, Any] | None:
    if not line.strip() or len(line) > protocol.MAX_EVENT_BYTES:
        return None
    try:
        event = protocol.loads_strict(line.decode("utf-8"))
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def probe_samples(path: Path) -> list[Sample]:
    """The probe records of a JSONL file (none when it is missing or unreadable); cached
    until the file changes."""
    try:
        info = os.stat(path)
    except OSError:
        return []
    key = (info.st_mtime_ns, info.st_size)
    cached = _probe_cache.get(path)
    if cached is None or cached[0] != key:
        cached = (key, _read_probes(path))
        _probe_cache[path] = cached
    return cached[1]


def _read_probes(path: Path) -> list[Sample]:
    try:
        with protocol.open_regular(path) as handle:
            lines = handle.read(16 * 1024 * 1024).split(b"\n")
    except OSError:
        return []
    out = []
    for line in lines:
        record = _event(line)
        sample = _probe_sample(record) if record else None
        if sample is not None:
            out.append(sample)
    return out


def _probe_sample(record: dict[str, Any]) -> Sample | None:
    try:
        reserved = record.get("measured_reserved_gib")
        sample = Sample(
            source=str(record.get("source", "probe")),
            id=str(record.get("id", "")),
            t=float(record.get("t", 0.0)),
            gpu_name=str(record["gpu_name"]),
            backend=str(record["backend"]),
            method=str(record["method"]),
            quantization=str(record["quantization"]),
            estimated_allocated_gib=float(record["estimated_allocated_gib"]),
            estimated_reserved_gib=float(record["estimated_reserved_gib"]),
            measured_allocated_gib=float(record["measured_allocated_gib"]),
            measured_reserved_gib=None if reserved is None else float(reserved),
        )
    except (KeyError, TypeError, ValueError):
        return None
    numbers = (sample.estimated_allocated_gib, sample.measured_allocated_gib)
    return sample if all(math.isfinite(n) and n > 0 for n in numbers) else None


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None
