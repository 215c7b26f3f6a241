"""Damaged and hostile run folders, and the CLI called in-process under a deadline.

Shared by the table test (`tests/unit/test_runs_damaged.py`), the fuzz test and the Runs
place test: each damage is a function that spoils one file of a run folder as a clumsy or
hostile user would (a FIFO, a directory, /dev/zero, NaN, a pid of 2**70, 10^5 nested lists).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

DEADLINE_S = 5.0
"""Longest a command may take on one damaged run folder before it counts as a hang."""
T = TypeVar("T")
GOOD_META = {"version": 1, "id": "", "profile": "tiny", "engine": "sft", "created": 1.7e9}


def good_run(root: Path, run_id: str, **fields: object) -> Path:
    """A healthy run folder: run.json (exited 0 after a finished end event) and events."""
    run = root / run_id
    run.mkdir(parents=True)
    meta = {**GOOD_META, "id": run_id, "pid": 4_000_000, "exit_code": 0, **fields}
    (run / "run.json").write_text(json.dumps(meta))
    events = [
        {"t": 1.7e9 + 1, "kind": "start", "steps": 2},
        {"t": 1.7e9 + 2, "kind": "step", "step": 1, "loss": 2.0},
        {"t": 1.7e9 + 3, "kind": "step", "step": 2, "loss": 1.5},
        {"t": 1.7e9 + 4, "kind": "end", "status": "finished", "steps_done": 2},
    ]
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (run / "output.log").write_text("training\ndone\n")
    return run


def spoil(path: Path, kind: str) -> None:
    """Replace the file at `path` by something that is no file to read: "fifo", "dir",
    "devzero" (a symlink to /dev/zero), "perm000" (mode 000) or "missing"."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    elif kind == "perm000":
        path.write_text('{"id": "x"}\n')
        path.chmod(0)
    elif kind != "missing":
        raise ValueError(kind)


def nested(depth: int) -> str:
    """JSON lists nested `depth` deep (deep enough recurses json.loads out of the stack)."""
    return "[" * depth + "]" * depth


@dataclass(frozen=True)
class Outcome:
    """What one in-process `cockpit` command returned and printed."""

    code: int
    out: str
    err: str


def within(what: str, call: Callable[[], T], deadline_s: float = DEADLINE_S) -> T:
    """`call()` in a thread: fails the test when it raises or is still running after
    `deadline_s` (a hang fails the test, not the suite)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:  # reported to the test below
            result["error"] = exc

    thread = threading.Thread(target=target, name=what, daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        pytest.fail(f"{what} still running after {deadline_s:g} s (a hang)")
    if "error" in result:
        error = result["error"]
        pytest.fail(f"{what} raised {type(error).__name__}: {error}")
    return result["value"]


def run_cli(argv: Sequence[str], deadline_s: float = DEADLINE_S) -> Outcome:
    """`cockpit ARGV` through `cockpit.cli.main`, `within` the deadline."""
    from cockpit.cli.main import main

    out, err = io.StringIO(), io.StringIO()

    def call() -> object:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(list(argv))

    command = "cockpit " + " ".join(argv)
    code = within(command, call, deadline_s)
    assert isinstance(code, int), f"{command} returned {code!r}, not an exit code"
    return Outcome(code, out.getvalue(), err.getvalue())


def listed(outcome: Outcome) -> dict[str, dict]:
    """`cockpit runs --json` output by run id; it must be strict JSON (no NaN)."""
    assert outcome.code == 0, outcome.err

    def refuse(name: str) -> None:
        raise AssertionError(f"runs --json wrote {name}")

    return {run["id"]: run for run in json.loads(outcome.out, parse_constant=refuse)}


Damage = Callable[[Path], None]
"""Spoils a run folder (made by `good_run`) in one way."""


def as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
