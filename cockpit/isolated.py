"""Run a command in its own process group with a hard timeout, and name how it died.

The doctor's probes and the VRAM trace run code that may segfault, abort (WSL's libcuda
"double free") or hang (a wedged driver). Each run gets its own process group so a
timeout kills the whole tree, and a death by signal is reported by name ("SIGABRT"),
never raised.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Windows has no signals: a crash is an NTSTATUS exit code.
_WINDOWS_CODES: dict[int, str] = {
    3: "SIGABRT",  # abort() in the C runtime
    0xC0000409: "SIGABRT",  # __fastfail / stack buffer overrun, also used by abort()
    0xC0000005: "SIGSEGV",  # access violation
    0xC000001D: "SIGILL",
}
_GRACE_S = 2.0


@dataclass(frozen=True)
class Outcome:
    """How a command ended and what it printed."""

    returncode: int | None
    """None when it never started or was killed after a timeout."""
    stdout: str
    stderr: str
    timed_out: bool = False
    start_error: str | None = None
    """Why the command could not be started at all (not found, not executable)."""

    @property
    def signal_name(self) -> str | None:
        return signal_name(self.returncode)


def signal_name(returncode: int | None, windows: bool | None = None) -> str | None:
    """ "SIGABRT" for -6 (or for 3 / 0xC0000409 on Windows); None for a normal exit."""
    if returncode is None:
        return None
    if windows is None:
        windows = sys.platform == "win32"
    if windows:
        return _WINDOWS_CODES.get(returncode & 0xFFFFFFFF)
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    try:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def run_isolated(
    argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None
) -> Outcome:
    """Run argv to completion or until `timeout` seconds, then kill its process group."""
    extra = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
        if sys.platform == "win32"
        else {"start_new_session": True}
    )
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=dict(env) if env is not None else None,
            **extra,
        )
    except OSError as exc:
        return Outcome(None, "", "", start_error=f"{type(exc).__name__}: {exc}")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        try:
            out, err = proc.communicate(timeout=_GRACE_S)
        except subprocess.TimeoutExpired:  # a grandchild escaped the group and holds the pipes
            out, err = "", ""
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
            proc.wait()
        return Outcome(None, out or "", err or "", timed_out=True)
    return Outcome(proc.returncode, out, err)
