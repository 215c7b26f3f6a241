"""`python -m cockpit.runs.reaper RUN_DIR [--pythonpath P] -- CMD…`: spawn and outlive the engine.

Why a reaper: the engine runs in its own session so that it survives the TUI and the SSH
session, yet only a process's parent can learn its exit code or the signal that killed it.
The supervisor therefore starts this small process (in a new session, so it is that
session's leader and the engine shares its process group); it starts the engine with its
output going to output.log, records the engine's pid in run.json, tells the supervisor
the pid on stdout, waits, and records `exit_code` or `signal` and `ended` in run.json.

When run.json cannot be rewritten (a full disk), it leaves an empty file named
`.exit-not-recorded-<ERRNO>` (creating one needs no free data block) so that the store can
say why the exit is missing instead of a bare "crashed".

It ignores SIGINT, SIGTERM and SIGHUP so that `cockpit stop`'s group-wide SIGTERM reaches
the engine without losing the record; only SIGKILL ends it early (then `cockpit stop`
records the kill itself). Standard library, `cockpit.runs.runjson`/`procs` and
`engines.protocol` only until the engine ended: no textual, no torch. Then it sends the
run-end notification (cockpit.runs.notify), which may import more.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cockpit.redact import redact
from cockpit.runs.procs import current_pgid, exit_fields
from cockpit.runs.runjson import RunMetaError, read_meta, update_meta
from engines.protocol import OUTPUT_FILE, RUN_FILE

UNRECORDED_NOTE = ".exit-not-recorded-"
"""Prefix of the empty file left when run.json cannot be written; the errno name follows."""


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m cockpit.runs.reaper", usage="%(prog)s RUN_DIR [--pythonpath P] -- CMD..."
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--pythonpath", help="PYTHONPATH for the engine process")
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1 :]
    if not args.command:
        parser.error("no engine command after --")
    return args


def _ignore(signum: int, frame: object) -> None:
    """A real handler (not SIG_IGN), so the engine gets default dispositions after exec."""


def _shield() -> None:
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _ignore)


def _child_env(pythonpath: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return env


def _handshake(line: str) -> None:
    """Tell the supervisor how the spawn went, then let go of its pipe."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # the supervisor is gone: the run goes on regardless


def _first_launch(run_json: Path) -> bool:
    try:
        return read_meta(run_json).get("started") is None
    except RunMetaError:
        return True


def _leave_note(run_dir: Path, exc: OSError) -> None:
    """Say, in a file name alone, why run.json could not be written (see the docstring)."""
    name = errno.errorcode.get(exc.errno or 0, "EIO")
    with contextlib.suppress(OSError):  # else nothing can be written: it stays "crashed"
        (run_dir / f"{UNRECORDED_NOTE}{name}").touch()


def _clear_notes(run_dir: Path) -> None:
    """A new launch starts without the previous one's notes."""
    for note in run_dir.glob(f"{UNRECORDED_NOTE}*"):
        with contextlib.suppress(OSError):
            note.unlink()


def _record(run_json: Path, **fields: object) -> OSError | None:
    """Merge fields into run.json; on failure leave the note and return the error."""
    try:
        update_meta(run_json, **fields)
    except OSError as exc:
        _leave_note(run_json.parent, exc)
        return exc
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    _shield()
    run_json = args.run_dir / RUN_FILE
    try:
        with open(args.run_dir / OUTPUT_FILE, "ab") as log:
            child = subprocess.Popen(
                args.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_env(args.pythonpath),
            )
    except OSError as exc:
        reason = f"{args.command[0]}: {exc.strerror or exc}"
        _record(run_json, spawn_error=reason, ended=time.time())
        _handshake(f"error {reason}")
        return 1
    _clear_notes(args.run_dir)
    now = time.time()
    first = {"started": now} if _first_launch(run_json) else {}
    launch = {"pid": child.pid, "pgid": current_pgid(), "reaper_pid": os.getpid()}
    failed = _record(run_json, **launch, launch_started=now, **first)
    if failed is not None:
        child.kill()  # an engine whose run nobody can follow must not train unseen
        child.wait()
        _handshake(f"error cannot write {RUN_FILE}: {failed.strerror or failed}")
        return 1
    _handshake(f"pid {child.pid}")
    returncode = child.wait()
    _record(run_json, ended=time.time(), **exit_fields(returncode))
    _notify(args.run_dir)
    return 0


def _notify(run_dir: Path) -> None:
    """Tell the user's `[notify] urls` that the run ended; whatever happens, the run's
    record stands (a failure is recorded beside it, never raised)."""
    try:
        from cockpit.runs.notify import notify_run_ended

        notify_run_ended(run_dir)
    except Exception as exc:
        error = redact(f"{type(exc).__name__}: {exc}")
        _record(run_dir / RUN_FILE, notified={"ok": False, "error": error})


if __name__ == "__main__":
    sys.exit(main())
