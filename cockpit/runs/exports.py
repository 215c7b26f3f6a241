"""A run's exports (`cockpit export`, engines/export.py) as the Runs place starts and lists
them: each export runs detached (its own session: it goes on when cockpit closes), its
progress in `exports/export.log`, its pid in `exports/export.pid` until it ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cockpit.runs.engine_env import run_engine_command, run_engine_env
from cockpit.runs.store import RunDir, file_tail

EXPORTS_DIR = "exports"
LOG_FILE = "export.log"
PID_FILE = "export.pid"
KINDS = ("merged", "ollama", "gguf")


@dataclass(frozen=True)
class Export:
    """One thing in exports/: a folder (its files' total size) or a file."""

    name: str
    size: int


def exports_dir(run: RunDir) -> Path:
    return run.path / EXPORTS_DIR


def start_export(run: RunDir, to: str, quant: str = "q8_0") -> int:
    """Start `python -m engines export` for `run` detached; its pid (raises
    EngineCommandError or OSError when it cannot start)."""
    folder = exports_dir(run)
    folder.mkdir(exist_ok=True)
    command = run_engine_command(run, "export", str(run.path), "--to", to, "--quant", quant)
    with open(folder / LOG_FILE, "ab") as log:
        log.write(f"$ cockpit export {run.id} --to {to}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=run_engine_env(run), start_new_session=True,
        )  # fmt: skip
    (folder / PID_FILE).write_text(str(proc.pid))
    return proc.pid


def running_export(run: RunDir) -> int | None:
    """The pid of the export still going for `run`, if one is."""
    try:
        pid = int((exports_dir(run) / PID_FILE).read_text())
    except (OSError, ValueError):
        return None
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        with contextlib.suppress(OSError):
            (exports_dir(run) / PID_FILE).unlink()
        return None
    except PermissionError:
        return pid
    return pid


def cancel_export(run: RunDir) -> bool:
    """End the running export (its whole session); False when none runs."""
    pid = running_export(run)
    if pid is None:
        return False
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGTERM)
    return True


def list_exports(run: RunDir) -> list[Export]:
    """What exports/ holds (finished work only: no hidden partial files, no log)."""
    folder = exports_dir(run)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.startswith(".") or entry.name in (LOG_FILE, PID_FILE):
            continue
        if entry.is_dir():
            size = sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())
        else:
            size = entry.stat().st_size
        found.append(Export(entry.name, size))
    return found


def log_tail(run: RunDir, lines: int = 12) -> list[str]:
    """The last lines of the exports' log (progress-bar redraws collapsed)."""
    return file_tail(exports_dir(run) / LOG_FILE, lines, 16384)
