"""The data check's client side: run `python -m engines data` and read its report back.

The check tokenises through the model's chat template, so it imports transformers: it runs
in a child process under the profile's training interpreter (the one pre-flight picks), in
its own process group, so a cancel or a timeout ends the whole tree. Progress lines
(`progress 0.42`) are passed on as they come. Reports are cached in memory and on disk,
keyed by the data file's content, the profile file's content, the interpreter and the rows
asked for, so the CLI, the Data place and pre-flight pay once for the same data. A report
made without a tokenizer is not cached: the tokenizer may be there next time.

The report's keys are documented in `engines/datacheck.py` (schema 1).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from cockpit.atomic import write_atomic
from cockpit.profiles.store import load_profile_file, resolve_data_path
from cockpit.runs.engine_env import engines_search_path
from cockpit.runs.interpreter import training_interpreter

DEFAULT_TIMEOUT_S = 600.0
CACHE_ENV = "COCKPIT_CACHE_DIR"
CACHE_KEEP = 64
"""Reports kept on disk; older ones are removed."""
_TAIL = 1500
_memory: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()

Report = dict[str, Any]
Progress = Callable[[float], None]


def run_data_check(
    profile_path: str | os.PathLike[str],
    python: str | None = None,
    rows: Sequence[int] = (),
    *,
    limit: int = 3,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    quick: bool = False,
    source: Path | str | None = None,
) -> tuple[Report | None, str | None]:
    """(the engine's report, None), or (None, why the check could not run).

    `source`: the profile's data as the caller resolved it (saves reading the profile
    again). `quick`: only what needs no tokenizer (the engine never imports transformers), as
    pre-flight asks before every start; a full report cached for the same data is given
    instead when there is one.

    `python` None means the profile's training interpreter (`[env] python`, else cockpit's
    own); `rows` are file lines to preview besides the first `limit` rows. `cancelled` is
    polled while the check runs: when it turns true the process is ended and the answer is
    (None, "cancelled").
    """
    path = Path(profile_path)
    if python is None:
        python, problem = profile_interpreter(path)
        if problem:
            return None, problem
    key = cache_key(path, python, rows, limit, source=source)
    cached = _cached(key) if key else None
    if cached is None and quick:
        key = cache_key(path, python, rows, limit, quick=True, source=source)
        cached = _cached(key) if key else None
    if cached is not None:
        if progress is not None:
            progress(1.0)
        return cached, None
    argv = [python, "-m", "engines", "data", str(path), "--json", "--limit", str(limit)]
    if rows:
        argv += ["--rows", ",".join(str(r) for r in rows)]
    if quick:
        argv.append("--quick")
    report, error = _run(argv, progress, cancelled, timeout)
    tokenizer = report.get("tokenizer") if report is not None else None
    if report is not None and key and (quick or not (tokenizer or {}).get("offline")):
        _store(key, report)
    return report, error


def cached_report(profile_path: str | os.PathLike[str]) -> Report | None:
    """The full report `cockpit data` or the Data place made for this profile and data as
    they are now, if one is cached; nothing is run."""
    path = Path(profile_path)
    python, problem = profile_interpreter(path)
    key = None if problem else cache_key(path, python, (), 3)
    return _cached(key) if key else None


def profile_interpreter(path: Path) -> tuple[str, str | None]:
    """The profile's training interpreter, as pre-flight picks it; or why there is none."""
    loaded = load_profile_file(path)
    if loaded.profile is None:
        return sys.executable, None  # the engine says what is wrong with the file
    python, refusals = training_interpreter(loaded.profile)
    if refusals:
        return python, f"{refusals[0].message}; fix: {refusals[0].fix}"
    return python, None


# -- the cache --------------------------------------------------------------------------


def cache_key(
    path: Path,
    python: str,
    rows: Sequence[int],
    limit: int,
    *,
    quick: bool = False,
    source: Path | str | None = None,
) -> str | None:
    """A hash of what the report depends on; None when the profile cannot be read.
    `source`: the profile's data, when the caller has resolved it already (pre-flight)."""
    kind = "quick" if quick else "full"
    digest = hashlib.sha256(f"schema 1\0{kind}\0{python}\0{list(rows)}\0{limit}\0".encode())
    try:
        digest.update(path.read_bytes())
    except OSError:
        return None
    if source is None:
        loaded = load_profile_file(path)
        source = None if loaded.profile is None else resolve_data_path(loaded.profile, path)
    if source is not None:
        digest.update(f"\0{source}\0".encode())
        if isinstance(source, Path) and not _hash_file(digest, source):
            return None
    return digest.hexdigest()


def _hash_file(digest: Any, path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return False
    return True


def cache_dir() -> Path:
    """`$COCKPIT_CACHE_DIR/datacheck`, else the user cache folder's."""
    override = os.environ.get(CACHE_ENV)
    base = Path(override).expanduser() if override else platformdirs.user_cache_path("cockpit")
    return base / "datacheck"


def _cached(key: str) -> Report | None:
    with _lock:
        if key in _memory:
            return _memory[key]
    try:
        report = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict):
        return None
    with _lock:
        _memory[key] = report
    return report


def _store(key: str, report: Report) -> None:
    with _lock:
        _memory[key] = report
    folder = cache_dir()
    with contextlib.suppress(OSError):
        write_atomic(folder / f"{key}.json", json.dumps(report).encode("utf-8"))
        kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[CACHE_KEEP:]:
            old.unlink(missing_ok=True)


def clear_memory_cache() -> None:
    """Forget the reports held in memory (tests)."""
    with _lock:
        _memory.clear()


# -- the process ------------------------------------------------------------------------


def _environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    first = str(engines_search_path(folder))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (first, env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _run(
    argv: list[str],
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
    timeout: float,
) -> tuple[Report | None, str | None]:
    with tempfile.TemporaryDirectory(prefix="cockpit-data-") as folder:
        out_path = Path(folder) / "report.json"
        with open(out_path, "w+", encoding="utf-8") as out:
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.PIPE,
                    text=True,
                    encoding="utf-8",
                    errors="replace",
                    env=_environment(Path(folder)),
                    **_own_group(),
                )
            except OSError as exc:
                return None, f"could not start {argv[0]}: {exc.strerror or exc}"
            ended = _Watch(proc, cancelled, timeout)
            errors = _read_progress(proc, progress)
            proc.wait()
            ended.stop()
            out.seek(0)
            stdout = out.read()
    return _answer(proc.returncode, stdout, errors, ended.why)


def _own_group() -> dict[str, Any]:
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}


def _read_progress(proc: subprocess.Popen[str], progress: Progress | None) -> list[str]:
    """Pass `progress X` lines on; keep the rest (the engine's complaints)."""
    other: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("progress "):
            with contextlib.suppress(ValueError):
                if progress is not None:
                    progress(min(1.0, max(0.0, float(line.split()[1]))))
            continue
        other.append(line)
    return other


def _answer(
    code: int | None, stdout: str, errors: list[str], stopped: str | None
) -> tuple[Report | None, str | None]:
    if stopped:
        return None, stopped
    said = "".join(errors).strip()[-_TAIL:]
    if code not in (0, 1):
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return None, f"the data check failed ({how}): {said or 'it printed nothing'}"
    lines = stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        return None, f"the data check printed no report: {said or stdout[-_TAIL:]}"
    if not isinstance(report, dict):
        return None, "the data check printed something other than a report"
    return report, None


class _Watch:
    """Ends the process group when `cancelled()` turns true or the time is up."""

    def __init__(
        self, proc: subprocess.Popen[str], cancelled: Callable[[], bool] | None, timeout: float
    ) -> None:
        self.proc, self.cancelled, self.timeout = proc, cancelled, timeout
        self.why: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="data-check-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        waited = 0.0
        while not self._done.wait(0.1):
            waited += 0.1
            if self.cancelled is not None and self.cancelled():
                self._end("cancelled")
                return
            if waited >= self.timeout:
                self._end(f"the data check took more than {self.timeout:g} s and was stopped")
                return

    def _end(self, why: str) -> None:
        self.why = why
        with contextlib.suppress(OSError):
            if sys.platform == "win32":
                self.proc.kill()
            else:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
