"""The run store: one directory per run under the runs root, created whole or not at all.

Root: `$COCKPIT_RUNS_DIR`, else `<user data dir>/cockpit/runs` (platformdirs). A run id is
`<UTC yyyymmdd-hhmmss>-<profile name>`, with `-2`, `-3`… when taken. A run is assembled in
a hidden `.creating-*` folder (frozen profile.toml, run.json) and renamed into place, so a
full or unwritable disk leaves nothing that listing would trip over; listing skips hidden
folders. Listing never raises or hangs for one bad run: a damaged or hostile run.json or
events.jsonl (corrupt, a FIFO, unreadable, absurd values) makes that run "unreadable", with
the reason; a malformed events line is skipped.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import os
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tomli_w

from cockpit.paths import RUNS_DIR_ENV, file_in_the_way, runs_root
from cockpit.profiles.store import ProfileSource, loaded_profile, resolve_data_path
from cockpit.profiles.validate import describe_problems
from cockpit.runs import slurm
from cockpit.runs.procs import process_alive, valid_pid
from cockpit.runs.reaper import UNRECORDED_NOTE
from cockpit.runs.runjson import SCHEMA_VERSION, RunMetaError, read_meta, update_meta, write_meta
from cockpit.runs.status import (
    EventFold,
    RunSummary,
    crash_reason,
    summarize,
    unreadable_summary,
)
from engines import protocol
from engines.profile_schema import TINY_DEMO_MODEL, Profile

_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


class RunStoreError(Exception):
    """A run could not be created or found; the message says why and what to do."""


@dataclass(frozen=True)
class RunDir:
    """The paths of one run directory (see engines.protocol for what each holds)."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def profile_file(self) -> Path:
        return self.path / protocol.PROFILE_FILE

    @property
    def run_json(self) -> Path:
        return self.path / protocol.RUN_FILE

    @property
    def events(self) -> Path:
        return self.path / protocol.EVENTS_FILE

    @property
    def output(self) -> Path:
        return self.path / protocol.OUTPUT_FILE

    @property
    def checkpoints(self) -> Path:
        return self.path / protocol.CHECKPOINTS_DIR

    @property
    def adapter(self) -> Path:
        return self.path / protocol.ADAPTER_DIR


# -- creating -------------------------------------------------------------------------


def create_run(
    source: ProfileSource, *, root: Path | None = None, now: float | None = None
) -> RunDir:
    """A new run directory holding the frozen profile (of a file, or one already loaded) and
    run.json; raises RunStoreError."""
    loaded = loaded_profile(source)
    if loaded.profile is None or loaded.raw is None:
        raise RunStoreError(loaded.error or describe_problems(loaded.problems))
    root = runs_root() if root is None else root
    now = time.time() if now is None else now
    raw = frozen_profile_raw(loaded.raw, loaded.profile, loaded.path)
    meta = {
        "version": SCHEMA_VERSION,
        "profile": loaded.profile.name,
        "engine": loaded.profile.engine,
        "profile_source": str(loaded.path.resolve()),
        "created": now,
        "estimate": launch_estimate(loaded.profile),
    }
    header = f"# Frozen copy of {loaded.path.resolve()} for this run.\n\n"
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".creating-", dir=root))
    except OSError as exc:
        raise RunStoreError(_store_failure(root, exc)) from exc
    try:
        (tmp / protocol.PROFILE_FILE).write_text(header + tomli_w.dumps(raw), encoding="utf-8")
        return _place(tmp, root, _base_id(loaded.profile.name, now), meta)
    except OSError as exc:
        raise RunStoreError(_store_failure(root, exc)) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def launch_estimate(profile: Profile) -> dict[str, Any] | None:
    """The VRAM estimate at launch, for run.json (`estimate`): the Runs view, the report and
    the calibration compare the measured peaks with it. None when the model is unknown."""
    from cockpit.vram.calibration import estimate_record
    from cockpit.vram.estimate import estimate

    try:
        return estimate_record(estimate(profile, suggest=False), profile)
    except Exception:  # an unknown model, an odd profile: the run starts all the same
        return None


def next_run_id(profile_name: str, root: Path | None = None, now: float | None = None) -> str:
    """The id a run of this profile started now would get (a dry run shows it)."""
    root = runs_root() if root is None else root
    base = _base_id(profile_name, time.time() if now is None else now)
    taken = (root / f"{base}-{n}" if n > 1 else root / base for n in range(1, 1000))
    return next((p.name for p in taken if not p.exists()), base)


def _base_id(profile_name: str, now: float) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    slug = _SLUG.sub("-", profile_name).strip("-.") or "run"
    return f"{stamp}-{slug[:60]}"


def _place(tmp: Path, root: Path, base: str, meta: dict[str, Any]) -> RunDir:
    """Write run.json with the first free id and rename the folder to it."""
    for n in range(1, 1000):
        run_id = base if n == 1 else f"{base}-{n}"
        target = root / run_id
        if target.exists():
            continue
        write_meta(tmp / protocol.RUN_FILE, {**meta, "id": run_id})
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY) or target.exists():
                continue  # taken meanwhile by another cockpit
            raise
        return RunDir(target)
    raise RunStoreError(f"no free run id for {base} in {root}")


def frozen_profile_raw(raw: dict[str, Any], profile: Profile, profile_path: Path) -> dict[str, Any]:
    """The raw profile with local paths made absolute, so the run no longer needs the
    profile's folder or the current directory: [data] path, a local model directory, and a
    relative [env] python."""
    frozen = copy.deepcopy(raw)
    data = resolve_data_path(profile, profile_path)
    if isinstance(data, Path):
        frozen.setdefault("data", {})["path"] = str(data)
    model = frozen.get("model", {})
    name = str(model.get("name_or_path", ""))
    if name and name != TINY_DEMO_MODEL and Path(name).expanduser().is_dir():
        model["name_or_path"] = str(Path(name).expanduser().resolve())
    env = frozen.get("env", {})
    python = str(env.get("python", ""))
    if python and not Path(python).is_absolute() and ("/" in python or "\\" in python):
        env["python"] = str((profile_path.parent / python).resolve())
    return frozen


def _store_failure(root: Path, exc: OSError) -> str:
    blocker = file_in_the_way(root)
    if blocker is not None:
        where = f"{blocker}, which" if blocker == root else f"{root}, but {blocker}"
        if os.environ.get(RUNS_DIR_ENV):
            return (
                f"cannot create a run: {RUNS_DIR_ENV} points to {where} is a file, not a "
                "folder; set it to a folder"
            )
        return (
            f"cannot create a run: the runs folder is {where} is a file, not a folder; move "
            f"that file away, or set {RUNS_DIR_ENV} to a folder"
        )
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        advice = "free some disk space, or set COCKPIT_RUNS_DIR to a folder on a bigger disk"
    elif exc.errno == errno.ENOTDIR:
        advice = f"a file stands where a folder should be; set {RUNS_DIR_ENV} to a folder"
    else:
        advice = f"make it writable, or set {RUNS_DIR_ENV} to a writable folder"
    return f"cannot create a run in {root}: {reason}; {advice}"


# -- reading --------------------------------------------------------------------------


def list_runs(
    root: Path | None = None, *, now: float | None = None, folds: EventFolds | None = None
) -> list[RunSummary]:
    """Every run under the root, newest first; a missing or unreadable root is no runs.
    `folds` (kept by a caller that lists again and again) reads only events not yet seen."""
    root = runs_root() if root is None else root
    try:
        dirs = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    summaries = [summarize_dir(RunDir(p), now=now, folds=folds) for p in dirs]
    if folds is not None:
        folds.keep({RunDir(p).events for p in dirs})
    return sorted(summaries, key=lambda s: (s.created or s.started or 0.0, s.id), reverse=True)


def find_run(run_id: str, root: Path | None = None) -> RunDir:
    """The run with this id (or the one run whose id starts with it); raises RunStoreError."""
    root = runs_root() if root is None else root
    exact = root / run_id
    if run_id and "/" not in run_id and exact.is_dir():
        return RunDir(exact)
    try:
        matches = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(run_id))
    except OSError:
        matches = []
    matches = [p for p in matches if not p.name.startswith(".")]
    if len(matches) == 1 and run_id:
        return RunDir(matches[0])
    if matches and run_id:
        names = ", ".join(p.name for p in matches[:5])
        raise RunStoreError(f"{run_id!r} matches several runs ({names}); give more of the id")
    raise RunStoreError(f"no run {run_id!r} in {root} (`cockpit runs` lists them)")


def load_run(run_id: str, root: Path | None = None, *, now: float | None = None) -> RunSummary:
    """The summary of one run; raises RunStoreError when there is no such run."""
    return summarize_dir(find_run(run_id, root), now=now)


def summarize_dir(
    run: RunDir, *, now: float | None = None, folds: EventFolds | None = None
) -> RunSummary:
    """The summary of one run directory; never raises (unreadable → status "unreadable")."""
    try:
        return _summarize_dir(run, now, folds)
    except RunMetaError as exc:
        return unreadable_summary(run.path, str(exc))
    except OSError as exc:
        return unreadable_summary(run.path, f"cannot be read: {exc.strerror or exc}")
    except Exception as exc:  # a hostile folder must cost one row, never the whole list
        return unreadable_summary(run.path, f"cannot be read ({type(exc).__name__}: {exc})")


def _summarize_dir(run: RunDir, now: float | None, folds: EventFolds | None) -> RunSummary:
    meta = read_meta(run.run_json)
    try:
        fold = fold_events(run.events) if folds is None else folds.fold(run.events)
    except OSError as exc:
        raise RunMetaError(f"cannot read {run.events.name}: {exc.strerror or exc}") from exc
    alive, job = liveness(run, meta)
    if job is not None or meta.get("slurm_job"):
        return _explain_crash(run, summarize(run.path, meta, fold, alive, now, job))
    if alive is False and meta.get("exit_code") is None and not meta.get("signal"):
        # The reaper may have recorded the exit between reading run.json and finding the
        # processes gone: read it once more rather than call a clean exit a crash.
        meta = read_meta(run.run_json)
    return _explain_crash(run, summarize(run.path, meta, fold, alive, now))


def liveness(run: RunDir, meta: dict[str, Any]) -> tuple[bool | None, dict[str, Any] | None]:
    """(alive, job): whether the run's engine lives (None: cannot tell from here) and, for
    a Slurm run, its job's state, which stands in for a pid."""
    if meta.get("slurm_job"):
        return None, slurm_job_state(run, meta)
    return pid_alive(meta, run.id), None


def slurm_job_state(run: RunDir, meta: dict[str, Any]) -> dict[str, Any] | None:
    """A Slurm run's job state: as recorded once it ended, else asked of Slurm (and
    recorded when it shows the job ended, for after Slurm forgets it)."""
    final = slurm.JobState.from_json(meta.get("slurm_final"))
    if final is not None:
        return final.to_json()
    state = slurm.job_state(str(meta["slurm_job"]))
    if state is not None and state.ended:
        with contextlib.suppress(OSError, RunMetaError):
            update_meta(run.run_json, slurm_final=state.to_json())
    return None if state is None else state.to_json()


def fold_events(path: Path) -> EventFold:
    """Fold every complete event of a file (malformed lines skipped); raises OSError when
    the file exists but cannot be read (permissions, a directory, a FIFO)."""
    fold = EventFold()
    _fold_new(protocol.EventTail(path), fold)
    return fold


def _fold_new(tail: protocol.EventTail, fold: EventFold) -> None:
    """Add the events `tail` has not read yet to `fold`, one chunk at a time."""
    while True:
        before = tail.offset
        fold.add_all(tail.read())
        if tail.offset == before:
            return


class EventFolds:
    """The folded events of many runs, kept between listings so that each listing reads only
    the bytes appended since the last one (a finished 100 MB run is read once, not every 2 s).
    A file replaced or truncated is folded again from its start. One listing at a time."""

    def __init__(self) -> None:
        self._folds: dict[Path, tuple[tuple[int, int], protocol.EventTail, EventFold]] = {}

    def fold(self, path: Path) -> EventFold:
        """The fold of every complete event in `path` so far; raises OSError like
        `fold_events`."""
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self._folds.pop(path, None)
            return EventFold()
        identity = (info.st_dev, info.st_ino)
        known = self._folds.get(path)
        if known is None or known[0] != identity or info.st_size < known[1].offset:
            known = (identity, protocol.EventTail(path), EventFold())
            self._folds[path] = known
        _, tail, fold = known
        try:
            _fold_new(tail, fold)
        except OSError:
            self._folds.pop(path, None)
            raise
        return fold

    def keep(self, paths: set[Path]) -> None:
        """Forget the runs that are gone."""
        for path in set(self._folds) - paths:
            del self._folds[path]


def pid_alive(meta: dict[str, Any], run_id: str) -> bool | None:
    """Whether the run's engine (or its reaper) runs: False once an exit is recorded, None
    for a run on another host (its pid means nothing here)."""
    pid = meta.get("pid")
    if not valid_pid(pid):
        return False
    if meta.get("exit_code") is not None or meta.get("signal"):
        return False
    host = meta.get("host")
    if host and host != socket.gethostname():
        return None
    # The engine may be gone a moment before its reaper records how it ended: until the
    # reaper exits too, the run is not over.
    reaper = meta.get("reaper_pid")
    return process_alive(pid, run_id) or (valid_pid(reaper) and process_alive(reaper, run_id))


def output_tail(run: RunDir, lines: int = 20, max_bytes: int = 64 * 1024) -> list[str]:
    """The last lines of output.log (progress-bar redraws collapsed to their last state)."""
    return file_tail(run.output, lines, max_bytes)


def file_tail(path: Path, lines: int = 20, max_bytes: int = 64 * 1024) -> list[str]:
    """The last non-empty lines of a log (progress-bar redraws collapsed to their last
    state); [] when it cannot be read. A FIFO in its place is not waited on."""
    try:
        with protocol.open_regular(path) as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - max_bytes, 0))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    shown = [line.rstrip("\r").rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")]
    shown = [line for line in shown if line]
    return shown[-lines:] if lines > 0 else []


def _explain_crash(run: RunDir, summary: RunSummary) -> RunSummary:
    """A crash (never an end event) explained by what it left: a full disk in the output's
    tail, or the reaper's note that it could not write run.json."""
    if summary.status != "crashed":
        return summary
    notes = sorted(p.name for p in run.path.glob(f"{UNRECORDED_NOTE}*"))
    unrecorded = notes[0].removeprefix(UNRECORDED_NOTE) if notes else None
    reason = crash_reason(summary.reason, output_tail(run, 40), unrecorded)
    return summary if reason == summary.reason else replace(summary, reason=reason)
