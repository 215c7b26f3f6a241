"""`run.json`: the supervisor's record of a run, read by anyone, rewritten atomically.

Two processes write it: the supervisor (create, launch, stop request) and the reaper (engine
pid, exit code or signal). Each write is read-modify-write under an exclusive lock on a
sibling lock file, then a temp file + fsync + `os.replace`, so readers (any number of
cockpits) never see half a file and writers never lose each other's fields. On platforms
without `fcntl` (Windows) the lock is skipped; the two writers there rarely overlap.
Stdlib only: the reaper imports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".run.json.lock"
SCHEMA_VERSION = 1


class RunMetaError(Exception):
    """run.json is missing, unreadable or not a JSON object; the message says which."""


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The run.json at `path` as a dict; raises RunMetaError with the reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RunMetaError(f"no {path.name}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RunMetaError(f"cannot read {path.name}: {exc}") from exc
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise RunMetaError(f"{path.name} is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise RunMetaError(f"{path.name} is not a JSON object")
    return meta


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
            meta = read_meta(path)
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
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
