"""`run.json`: the supervisor's record of a run, read by anyone, rewritten atomically.

Two processes write it: the supervisor (create, launch, stop request) and the reaper (engine
pid, exit code or signal). Each write is read-modify-write under an exclusive lock on a
sibling lock file, then a temp file + fsync + `os.replace`, so readers (any number of
cockpits) never see half a file and writers never lose each other's fields. On platforms
without `fcntl` (Windows) the lock is skipped; the two writers there rarely overlap.

Reading is total: a run.json that is not a regular file (a FIFO would hang a plain read),
larger than `MAX_META_BYTES`, not UTF-8, not strict JSON (NaN, 1e999, deep nesting) or
holding a field of the wrong type (a pid of 2**70, a history that is not a list) is a
RunMetaError naming the problem, never a traceback or a hang.
Stdlib only (with `engines.protocol`, stdlib only too): the reaper imports it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from engines.protocol import NotRegularFileError, loads_strict, open_regular

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".run.json.lock"
SCHEMA_VERSION = 1
MAX_META_BYTES = 1024 * 1024
"""A run.json is a few hundred bytes (a few KiB with a long resume history)."""
MAX_PID = 2**31 - 1
"""The largest pid a C `pid_t` holds: beyond it `os.kill` raises OverflowError."""
MAX_TIME = 1e11
"""Unix seconds beyond ±this (year ~5100) are no time cockpit wrote."""
_PIDS = ("pid", "pgid", "reaper_pid")
_TIMES = ("created", "started", "ended", "launch_started", "stop_requested")
_COUNTS = ("version", "starts_before", "launches", "processes")
_TEXTS = ("id", "profile", "engine", "profile_source", "host", "python", "signal")
_TEXTS += ("spawn_error", "command_text", "cwd")
_LISTS = ("history", "command")


class RunMetaError(Exception):
    """run.json is missing, unreadable or not a JSON object; the message says which."""


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The run.json at `path` as a dict; raises RunMetaError with the reason."""
    path = Path(path)
    meta = _load(path)
    problem = meta_problem(meta)
    if problem:
        raise RunMetaError(f"{path.name}: {problem}")
    return meta


def _load(path: Path) -> dict[str, Any]:
    """run.json as a JSON object, its fields unchecked; raises RunMetaError."""
    try:
        with open_regular(path) as handle:
            data = handle.read(MAX_META_BYTES + 1)
    except FileNotFoundError as exc:
        raise RunMetaError(f"no {path.name}") from exc
    except OSError as exc:
        raise RunMetaError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if len(data) > MAX_META_BYTES:
        raise RunMetaError(f"{path.name} is over {MAX_META_BYTES // 1024} KiB: not a run record")
    try:
        meta = loads_strict(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RunMetaError(f"{path.name} is not UTF-8 text ({exc.reason})") from exc
    except ValueError as exc:
        raise RunMetaError(f"{path.name} is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise RunMetaError(f"{path.name} is not a JSON object")
    return meta


def meta_problem(meta: Mapping[str, Any]) -> str | None:
    """What is wrong with the known fields of a run.json (None when nothing is), so that
    readers can trust their types: pids fit `os.kill`, times are finite, counts are ints."""
    for key, value in meta.items():
        if value is None:
            continue
        if key in _PIDS and not (_is_int(value) and 0 < value <= MAX_PID):
            return f"{key} {_short(value)} is not a process id"
        if key in _TIMES and not (_is_number(value) and abs(value) <= MAX_TIME):
            return f"{key} {_short(value)} is not a time"
        if key in _COUNTS and not (_is_int(value) and 0 <= value <= MAX_PID):
            return f"{key} {_short(value)} is not a count"
        if key == "exit_code" and not (_is_int(value) and abs(value) < 2**32):
            return f"exit_code {_short(value)} is not an exit code"
        if key in _TEXTS and not isinstance(value, str):
            return f"{key} {_short(value)} is not text"
        if key in _LISTS and not isinstance(value, list):
            return f"{key} {_short(value)} is not a list"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_int(value)  # abs() and comparisons of a huge int are exact, float() is not


def _short(value: Any) -> str:
    """A value for a message: its JSON, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


def write_meta(path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    """Replace run.json atomically (temp file in the same folder, fsync, os.replace)."""
    path = Path(path)
    data = json.dumps(meta, indent=2, default=str).encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def update_meta(path: str | os.PathLike[str], **changes: Any) -> dict[str, Any]:
    """Merge `changes` into run.json under the lock; returns the new content.

    A missing or corrupt run.json is replaced by `changes` alone rather than failing: the
    reaper must always be able to record an exit.
    """
    path = Path(path)
    with _locked(path.parent / LOCK_FILE):
        try:
            meta = _load(path)  # wrongly typed fields are kept; the changes may fix them
        except RunMetaError:
            meta = {"version": SCHEMA_VERSION}
        meta.update(changes)
        write_meta(path, meta)
    return meta


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    # Non-blocking open: a FIFO planted as the lock file must not hang the writer.
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o666)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFileError(errno.EINVAL, "not a regular file", os.fspath(lock_path))
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
