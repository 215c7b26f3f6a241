"""Process facts and signals for runs, with the standard library only (the reaper uses it).

psutil stays behind cockpit.hardware.host; a run only needs "is its engine alive", which
`os.kill(pid, 0)` answers, refined on Linux through /proc: a zombie is dead, and a pid whose
command line no longer names the run was reused by another process. On Windows
`os.kill(pid, 0)` would terminate the process, so liveness asks the kernel through ctypes.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import TypeGuard

MAX_PID = 2**31 - 1
"""Beyond a C `pid_t`, `os.kill` raises OverflowError: no process has such a pid."""
_WINDOWS_CRASHES = {
    0xC0000005: "STATUS_ACCESS_VIOLATION",
    0xC0000374: "STATUS_HEAP_CORRUPTION",
    0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
    0xC00000FD: "STATUS_STACK_OVERFLOW",
}


def valid_pid(pid: object) -> TypeGuard[int]:
    """Whether `pid` could name a process (an int in 1..MAX_PID; not a bool, not 2**70)."""
    return isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid <= MAX_PID


def process_alive(pid: int, marker: str | None = None) -> bool:
    """True while `pid` runs; with `marker` (the run id) also that it still is that run's."""
    if not valid_pid(pid):
        return False
    if os.name == "nt":  # pragma: no cover - Windows
        return _windows_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return _proc_says_alive(pid, marker)


def _proc_says_alive(pid: int, marker: str | None) -> bool:
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_bytes()
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): os.kill's answer stands
    state = stat.rsplit(b")", 1)[-1].split()[:1]
    if state == [b"Z"]:
        return False
    return marker is None or marker.encode() in cmdline


def run_processes(run_dir: str | os.PathLike[str]) -> list[int]:
    """Pids of the live processes whose arguments hold `run RUN_DIR` (Linux; [] elsewhere).

    That is the engine, every rank a launcher started (torch elastic puts each rank in a
    session of its own, out of reach of the run's process group) and the reaper.
    """
    proc = Path("/proc")
    marker = b"\0run\0" + os.fsencode(os.fspath(run_dir)) + b"\0"
    found = []
    try:
        entries = [e for e in proc.iterdir() if e.name.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in b"\0" + cmdline and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


def _windows_alive(pid: int) -> bool:  # pragma: no cover - Windows
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def signal_name(number: int) -> str:
    """ "SIGSEGV" for 11; "signal 99" for numbers this platform does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def exit_fields(returncode: int) -> dict[str, object]:
    """run.json fields for a child's return code: exit_code, or signal when it was killed."""
    if returncode < 0:
        return {"exit_code": None, "signal": signal_name(-returncode)}
    if os.name == "nt" and returncode in _WINDOWS_CRASHES:  # pragma: no cover - Windows
        return {"exit_code": returncode, "signal": _WINDOWS_CRASHES[returncode]}
    return {"exit_code": returncode, "signal": None}


def send_signal(pid: int, sig: int) -> bool:
    """Signal one process; False when it is already gone (or `pid` names none)."""
    if not valid_pid(pid):
        return False
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def signal_group(pgid: int | None, sig: int) -> bool:
    """Signal a whole process group (the run's session); False when it is gone or unknown."""
    if not valid_pid(pgid) or pgid == 1 or not hasattr(os, "killpg"):
        return False
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def interrupt_signal() -> int:
    """The graceful stop signal: SIGINT (Ctrl-C) on POSIX, CTRL_BREAK_EVENT on Windows."""
    return getattr(signal, "CTRL_BREAK_EVENT", signal.SIGINT) if os.name == "nt" else signal.SIGINT


def kill_signal() -> int:
    """SIGKILL where it exists; SIGTERM (TerminateProcess) on Windows."""
    return getattr(signal, "SIGKILL", signal.SIGTERM)


def current_pgid() -> int | None:
    """This process's group id (the session leader's pid for the reaper); None on Windows."""
    with contextlib.suppress(AttributeError, OSError):
        return os.getpgid(0)
    return None
