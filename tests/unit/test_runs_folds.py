"""Listing again and again reads only what was appended (`EventFolds`), yet agrees with a
full read: a finished run is not parsed anew every two seconds, a replaced or truncated
events file is read again from its start, and a run that is gone is forgotten."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cockpit.runs import store
from cockpit.runs.store import EventFolds, fold_events, list_runs
from tests.bench.soak_runs import write_finished


def _append(path: Path, *events: dict) -> None:
    with open(path, "a") as handle:
        handle.writelines(json.dumps(e) + "\n" for e in events)


@pytest.fixture
def big_run(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "20261201-120000-long"
    write_finished(run, 0.2)
    return run


def test_a_second_listing_reads_no_old_event(big_run, monkeypatch):
    folds = EventFolds()
    (first,) = list_runs(big_run.parent, folds=folds)
    parsed = []
    real = store.EventFold.add
    monkeypatch.setattr(store.EventFold, "add", lambda self, e: parsed.append(e) or real(self, e))
    (again,) = list_runs(big_run.parent, folds=folds)
    assert parsed == []
    assert (again.status, again.step, again.total_steps) == ("finished", first.step, first.step)


def test_appended_events_are_folded_like_a_full_read(tmp_path):
    events = tmp_path / "events.jsonl"
    _append(events, {"t": 1, "kind": "start", "steps": 10})
    folds = EventFolds()
    assert folds.fold(events).last_step is None
    _append(events, {"t": 2, "kind": "step", "step": 1, "loss": 2.0})
    with open(events, "a") as handle:  # half a line: the writer is mid-write
        handle.write('{"t": 3, "kind": "step", "st')
    assert folds.fold(events).last_step["step"] == 1
    with open(events, "a") as handle:
        handle.write('ep": 2, "loss": 1.5}\n')
    _append(events, {"t": 4, "kind": "end", "status": "finished", "steps_done": 2})
    incremental, full = folds.fold(events), fold_events(events)
    assert incremental.last_step == full.last_step == {"t": 3, "kind": "step", "step": 2,
                                                       "loss": 1.5}  # fmt: skip
    assert incremental.end == full.end and incremental.step_events == full.step_events == 2


def test_a_replaced_or_truncated_file_is_read_from_its_start(tmp_path):
    events = tmp_path / "events.jsonl"
    _append(events, *({"t": s, "kind": "step", "step": s} for s in range(1, 6)))
    folds = EventFolds()
    assert folds.fold(events).step_events == 5
    events.write_text(json.dumps({"t": 9, "kind": "step", "step": 1}) + "\n")  # truncated
    assert folds.fold(events).step_events == 1
    replacement = tmp_path / "new.jsonl"
    _append(replacement, *({"t": s, "kind": "step", "step": s} for s in range(1, 4)))
    os.replace(replacement, events)
    assert folds.fold(events).step_events == 3


def test_runs_that_are_gone_are_forgotten(big_run):
    folds = EventFolds()
    list_runs(big_run.parent, folds=folds)
    assert len(folds._folds) == 1
    (big_run / "events.jsonl").unlink()
    big_run.rename(big_run.parent / ".trash")
    assert list_runs(big_run.parent, folds=folds) == []
    assert folds._folds == {}
