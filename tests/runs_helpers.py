"""Helpers for the runs tests: paths, waiting on a condition, killing runs, the CLI."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "profiles" / "tiny-demo-cpu.toml"
COCKPIT = [str(Path(sys.executable).parent / "cockpit")]
"""The real console script, as a user runs it."""


def wait_for(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> object:
    """Poll `condition` until it returns something truthy; fail the test after `timeout`
    (generous: in a parallel test run every subprocess is slower; a hang still fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)


def kill_runs(root: Path) -> None:
    """SIGKILL every process of every run under `root` that still runs."""
    from cockpit.runs.procs import run_processes

    for run_dir in root.glob("*/"):
        for pid in run_processes(run_dir.resolve()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    for run_json in root.glob("*/run.json"):
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads(run_json.read_text())
            for key in ("pgid", "reaper_pid"):
                if isinstance(meta.get(key), int) and meta[key] > 1:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(meta[key], signal.SIGKILL)
            if isinstance(meta.get("pid"), int):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(meta["pid"], signal.SIGKILL)


def cockpit(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Run `cockpit train|runs|stop ARGS` in a subprocess, as a user would."""
    return subprocess.run(
        [*COCKPIT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        **kwargs,
    )


def _as_from_a_terminal() -> None:
    """In the child, before exec: Ctrl-C's and a hang-up's default actions, as a shell gives
    a command it runs in the foreground. A test run started in the background ignores
    SIGINT (`cmd &` in a script) or SIGHUP (nohup), and children inherit an ignored signal:
    under `nohup` the terminal-closing test waited for a follower that never died."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def cockpit_popen(*args: str, **kwargs) -> subprocess.Popen:
    """Start `cockpit ARGS` without waiting (stdin a pipe, for answering its prompt)."""
    return subprocess.Popen(
        [*COCKPIT, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        preexec_fn=_as_from_a_terminal,  # signal dispositions only: takes no lock, fork-safe
        **kwargs,
    )
