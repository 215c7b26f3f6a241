"""The run watcher: coalesced updates a UI can draw at 10 Hz, without ever writing to the run."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest

from cockpit.runs.runjson import write_meta
from cockpit.runs.status import RunSummary
from cockpit.runs.watcher import (
    RunWatcher,
    StepHistory,
    StepPoint,
    eta_seconds,
    steps_per_second,
)
from engines.protocol import EventTail, EventWriter
from tests.runs_helpers import TINY, wait_for

pytest_plugins = ["tests.runs_fixtures"]


def _run_dir(tmp_path: Path, **meta) -> Path:
    run = tmp_path / "20261122-000000-demo"
    run.mkdir()
    write_meta(run / "run.json", {"id": run.name, "profile": "demo", "engine": "sft", **meta})
    return run


def _steps(writer: EventWriter, first: int, last: int) -> None:
    for step in range(first, last + 1):
        writer.write("step", step=step, loss=10.0 / step, tokens_per_s=500.0)


def test_a_flood_of_steps_arrives_as_one_bounded_update(tmp_path):
    run = _run_dir(tmp_path)
    with EventWriter(run / "events.jsonl") as writer:
        writer.write("start", steps=5000)
        _steps(writer, 1, 5000)
    update = RunWatcher(run, max_points=200).poll()
    assert update.new_steps == 5000 and update.latest_step.step == 5000
    assert len(update.history) <= 200
    steps = [p.step for p in update.history]
    gaps = {b - a for a, b in itertools.pairwise(steps)}
    assert steps[0] == 1 and len(gaps) == 1  # evenly spread over the whole run
    assert [e["kind"] for e in update.events] == ["start"]
    assert update.summary.step == 5000 and update.summary.total_steps == 5000


def test_a_long_backlog_is_read_in_chunks_and_nothing_grows_with_it(tmp_path, monkeypatch):
    run = _run_dir(tmp_path)
    with EventWriter(run / "events.jsonl") as writer:
        writer.write("start", steps=20_000)
        for step in range(1, 20_001):  # a fast run: every step within the rate window
            writer.write("step", step=step, loss=1.0, t=1000.0 + step / 1000)
            if step % 40 == 0:
                writer.write("message", level="info", text=f"note {step}")
    reads = []
    real = EventTail.read
    monkeypatch.setattr(EventTail, "read", lambda self: reads.append(1) or real(self, 256 * 1024))
    watcher = RunWatcher(run, max_points=100, max_events=50)
    update = watcher.poll()
    assert len(reads) > 5  # read chunk by chunk, never as one list
    assert update.new_steps == 20_000 and len(update.history) <= 100
    assert len(update.events) == 50 and update.events[-1]["text"] == "note 20000"
    assert len(watcher._recent) <= 512
    assert update.steps_per_s == pytest.approx(1000, rel=0.01)


def test_polls_return_only_what_is_new(tmp_path):
    run = _run_dir(tmp_path)
    watcher = RunWatcher(run)
    assert watcher.poll().new_steps == 0 and not watcher.poll().changed
    with EventWriter(run / "events.jsonl") as writer:
        writer.write("start", steps=10)
        _steps(writer, 1, 3)
        first = watcher.poll()
        writer.write("message", level="warning", text="no pad token; using eos")
        _steps(writer, 4, 4)
        second = watcher.poll()
    assert (first.new_steps, second.new_steps) == (3, 1)
    assert [e["kind"] for e in second.events] == ["message"]
    assert [p.step for p in second.history] == [1, 2, 3, 4]
    assert watcher.poll().changed is False


def test_a_half_written_line_waits_for_its_end(tmp_path):
    run = _run_dir(tmp_path)
    events = run / "events.jsonl"
    line = json.dumps({"t": 1.0, "kind": "step", "step": 1, "loss": 2.0})
    events.write_text(line[:20])
    watcher = RunWatcher(run)
    assert watcher.poll().new_steps == 0
    with events.open("a") as handle:
        handle.write(line[20:] + "\n")
    assert watcher.poll().latest_step.loss == 2.0


def test_history_halves_and_keeps_its_spacing():
    history = StepHistory(max_points=8)
    for step in range(1, 101):
        history.add(StepPoint(step=step, t=float(step)))
    steps = [p.step for p in history.points]
    assert len(steps) < 8 and steps[0] == 1
    assert len({b - a for a, b in itertools.pairwise(steps)}) == 1


def test_grpo_values_reach_the_chart_points():
    point = StepPoint.from_event(
        {"t": 5.0, "kind": "step", "step": 3, "loss": 0.1, "reward": 1.5, "kl": 0.01,
         "completion_length": 42, "rewards": {"format": 1.0, "exact_match": 0.5, "x": "?"}}
    )  # fmt: skip
    assert (point.reward, point.kl, point.completion_length) == (1.5, 0.01, 42.0)
    assert point.rewards == (("format", 1.0), ("exact_match", 0.5))
    assert point.grad_norm is None  # not reported is not zero


def test_eta_from_recent_throughput():
    points = [StepPoint(step=s, t=100.0 + s / 2) for s in range(1, 11)]  # 2 steps/s
    rate = steps_per_second(points)
    assert rate == pytest.approx(2.0)
    running = RunSummary("r", Path("r"), "running", step=10, total_steps=30)
    assert eta_seconds(running, rate) == pytest.approx(10.0)
    finished = RunSummary("r", Path("r"), "finished", step=30, total_steps=30)
    assert eta_seconds(finished, rate) is None
    assert steps_per_second(points[:1]) is None


def test_a_corrupt_run_json_is_reported_not_raised(tmp_path):
    run = _run_dir(tmp_path)
    (run / "run.json").write_text("{")
    update = RunWatcher(run).poll()
    assert update.summary.status == "unreadable" and "JSON" in update.summary.reason


def _digest(run: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() + str(p.stat().st_mtime_ns)
        for p in sorted(run.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_two_watchers_on_one_live_run_both_see_it_and_write_nothing(fake_engine):
    from cockpit.runs.supervisor import start_run

    fake_engine("steps=6,then=hang")
    run = start_run(TINY, gpu_sizes_gib=())
    first, second = RunWatcher(run.path), RunWatcher(run.path)
    wait_for(lambda: first.poll().summary.step == 6, what="six steps")
    before = _digest(run.path)
    a, b = first.poll(), second.poll()
    assert _digest(run.path) == before
    assert a.summary.status == b.summary.status == "running"
    assert a.latest_step == b.latest_step and b.latest_step.step == 6
    assert b.new_steps == 6 and [p.step for p in b.history] == [1, 2, 3, 4, 5, 6]
