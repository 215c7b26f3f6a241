"""A full disk names itself: a run that died without an end event says "no space left on
device" and the fix, from its output's tail or from the note its reaper left (issue 10)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from cockpit.runs import reaper
from cockpit.runs.store import create_run, load_run
from tests.runs_helpers import TINY

pytest_plugins = ["tests.runs_fixtures"]

GONE_PID = 2**22 + 17
"""Above Linux's largest pid: a process that cannot be alive."""


def _crashed_run(output: str) -> Path:
    """A run whose engine was launched, wrote some steps, then vanished without a record."""
    run = create_run(TINY)
    meta = json.loads(run.run_json.read_text())
    meta |= {"pid": GONE_PID, "starts_before": 0, "ends_before": 0, "launch_started": 1.0}
    run.run_json.write_text(json.dumps(meta))
    events = [{"t": 2.0, "kind": "start", "steps": 30}, {"t": 3.0, "kind": "step", "step": 1}]
    run.events.write_text("".join(json.dumps(e) + "\n" for e in events))
    run.output.write_text(output)
    return run.path


def test_a_crash_with_errno_28_at_the_outputs_tail_names_the_disk_and_the_fix(runs_dir):
    path = _crashed_run(
        "{'loss': 2.31, 'step': 1}\nTraceback (most recent call last):\n"
        '  File "trainer.py", line 3, in _save\n'
        "OSError: [Errno 28] No space left on device\n"
    )
    summary = load_run(path.name)
    assert summary.status == "crashed"
    assert summary.reason.startswith("no space left on device")
    assert "free disk space" in summary.reason and "resume" in summary.reason


def test_a_crash_without_a_disk_message_is_left_as_it_was(runs_dir):
    summary = load_run(_crashed_run("{'loss': 2.31, 'step': 1}\n").name)
    assert summary.status == "crashed" and "space" not in summary.reason


def test_a_reaper_that_cannot_write_run_json_leaves_a_note_the_store_reads(runs_dir, monkeypatch):
    path = _crashed_run("")  # the output could not be written either

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patched:
        patched.setattr(reaper, "update_meta", full)
        failed = reaper._record(path / "run.json", exit_code=1, ended=5.0)
    assert failed is not None and failed.errno == errno.ENOSPC
    summary = load_run(path.name)
    assert summary.status == "crashed" and "no space left on device" in summary.reason


@pytest.mark.parametrize("left", [True, False])
def test_a_new_launch_clears_the_previous_launchs_note(tmp_path, left):
    note = tmp_path / f"{reaper.UNRECORDED_NOTE}ENOSPC"
    if left:
        note.touch()
    reaper._clear_notes(tmp_path)
    assert not note.exists()
