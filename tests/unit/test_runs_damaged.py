"""One damaged or hostile run folder must cost one row, never the command (issue 10, #6, #7).

Each damage × each command (`cockpit runs`, `runs --json`, `report RUN`, `stop RUN`), run
in-process beside a healthy run: the command returns an exit code within 5 s (a FIFO used to
hang it, NaN or a pid of 2**70 used to raise), the damaged run is listed as `unreadable`
with a reason naming the problem, and the healthy run is listed as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.damaged_runs import Damage, as_root, good_run, listed, nested, run_cli, spoil

BAD = "bad-run"


@pytest.fixture
def runs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty COCKPIT_RUNS_DIR (and config folder) for one test."""
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(root))
    monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    return root


@pytest.fixture
def no_doctor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cockpit report` without the doctor's probes (seconds each): no findings."""
    monkeypatch.setattr("cockpit.doctor.runner.run_doctor", lambda *args, **kwargs: [])


def _meta(text: str | bytes) -> Damage:
    def damage(run: Path) -> None:
        data = text.encode() if isinstance(text, str) else text
        (run / "run.json").write_bytes(data)

    return damage


def _field(**fields: object) -> Damage:
    def damage(run: Path) -> None:
        meta = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**meta, **fields}))

    return damage


def _spoiled(name: str, kind: str) -> Damage:
    return lambda run: spoil(run / name, kind)


def _huge(run: Path) -> None:
    with open(run / "run.json", "wb") as handle:  # 50 MB (sparse: quick to make)
        handle.write(b'{"id": "' + b"x" * 1024)
        handle.truncate(50 * 1024 * 1024)


# name: (damage, words the reason of the unreadable run must hold)
DAMAGES: dict[str, tuple[Damage, tuple[str, ...]]] = {
    "run.json NaN": (_meta('{"pid": NaN, "created": 1.7e9}'), ("NaN",)),
    "run.json Infinity": (_meta('{"created": -Infinity}'), ("Infinity",)),
    "run.json 1e999": (_meta('{"created": 1e999}'), ("too large",)),
    "run.json 5000-digit int": (_meta('{"created": ' + "9" * 5000 + "}"), ("digits",)),
    "pid 2**70": (_field(pid=2**70, exit_code=None), ("pid",)),  # os.kill: OverflowError
    "pid 1e308": (_meta('{"pid": 1e308}'), ("pid", "process id")),
    "pid '12'": (_field(pid="12", exit_code=None), ("pid",)),
    "reaper_pid -1": (_field(reaper_pid=-1, exit_code=None), ("reaper_pid",)),
    "created 'x'": (_field(created="x"), ("created", "time")),
    "starts_before a list": (_field(starts_before=[1]), ("starts_before",)),
    "history not a list": (_field(history=5), ("history", "list")),
    "exit_code a dict": (_field(exit_code={"a": 1}), ("exit_code",)),
    "nested 10^5": (_meta(nested(100_000)), ("nested",)),
    "nested 100 in a field": (_meta('{"id": ' + nested(100) + "}"), ("nested",)),
    "non-UTF-8": (_meta(b'{"id": "\xff\xfe\xfd"}'), ("UTF-8",)),
    "binary garbage": (_meta(bytes(range(256)) * 4), ("UTF-8",)),
    "not an object": (_meta("[1, 2, 3]"), ("JSON object",)),
    "50 MB run.json": (_huge, ("KiB",)),
    "run.json a directory": (_spoiled("run.json", "dir"), ("directory",)),
    "run.json a FIFO": (_spoiled("run.json", "fifo"), ("FIFO",)),
    "run.json -> /dev/zero": (_spoiled("run.json", "devzero"), ("character device",)),
    "run.json missing": (_spoiled("run.json", "missing"), ("no run.json",)),
    "events.jsonl a directory": (_spoiled("events.jsonl", "dir"), ("events.jsonl", "directory")),
    "events.jsonl a FIFO": (_spoiled("events.jsonl", "fifo"), ("events.jsonl", "FIFO")),
    "events.jsonl -> /dev/zero": (_spoiled("events.jsonl", "devzero"), ("events.jsonl",)),
}
UNREADABLE_AS_USER = {
    "run.json mode 000": (_spoiled("run.json", "perm000"), ("Permission denied",)),
    "events.jsonl mode 000": (_spoiled("events.jsonl", "perm000"), ("Permission denied",)),
}
ROOT_SKIP = pytest.mark.skipif(as_root(), reason="root reads files of mode 000 all the same")
CASES = [pytest.param(name, *case, id=name) for name, case in DAMAGES.items()] + [
    pytest.param(name, *case, id=name, marks=ROOT_SKIP) for name, case in UNREADABLE_AS_USER.items()
]


@pytest.mark.parametrize("name, damage, words", CASES)
def test_runs_json_lists_the_damaged_run_as_unreadable_with_the_reason(
    runs_root: Path,
    name: str,
    damage: Damage,
    words: tuple[str, ...],
) -> None:
    good_run(runs_root, "good-run", created=1.7e9 - 10)
    damage(good_run(runs_root, BAD))
    runs = listed(run_cli(["runs", "--json"]))
    assert runs["good-run"]["status"] == "finished"
    assert runs[BAD]["status"] == "unreadable"
    for word in words:
        assert word in runs[BAD]["reason"], runs[BAD]["reason"]


@pytest.mark.parametrize("name, damage, words", CASES)
def test_runs_table_report_and_stop_answer_in_time(
    runs_root: Path,
    no_doctor: None,
    name: str,
    damage: Damage,
    words: tuple[str, ...],
) -> None:
    good_run(runs_root, "good-run", created=1.7e9 - 10)
    damage(good_run(runs_root, BAD))
    table = run_cli(["runs"])
    assert table.code == 0 and "good-run" in table.out and "finished" in table.out
    assert BAD in table.out and "unreadable" in table.out and words[0] in table.out
    report = run_cli(["report", BAD])
    assert report.code == 0, report.err
    assert "status unreadable" in report.out and words[0] in report.out
    stop = run_cli(["stop", BAD])
    assert stop.code == 1 and "cannot stop" in stop.err and words[0] in stop.err


@pytest.mark.parametrize("name", ["output.log", "profile.toml", "checkpoints"])
@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_a_fifo_or_device_beside_a_good_record_is_reported_not_waited_on(
    runs_root: Path,
    no_doctor: None,
    name: str,
    kind: str,
) -> None:
    run = good_run(runs_root, BAD, exit_code=1)
    (run / "events.jsonl").unlink()
    spoil(run / name, kind)
    assert listed(run_cli(["runs", "--json"]))[BAD]["status"] == "crashed"
    report = run_cli(["report", BAD])
    assert report.code == 0, report.err
    if name == "output.log":
        assert "not a regular file" in report.out
    assert run_cli(["stop", BAD]).code == 0


def test_hostile_values_in_events_are_skipped_or_ignored(runs_root: Path, no_doctor) -> None:
    run = good_run(runs_root, BAD)
    lines = [
        b'{"t": NaN, "kind": "step", "step": 3, "loss": NaN}',
        b'{"t": 1e999, "kind": "step", "step": 1e999}',
        b'{"t": 1e308, "kind": "step", "step": 1e308, "loss": -1e308, "epoch": [[]]}',
        b'{"t": "x", "kind": "checkpoint", "path": {"a": 1}, "step": "3"}',
        b'{"kind": "start", "steps": ' + b"9" * 5000 + b"}",
        b'{"kind": "step", "step": ' + nested(100_000).encode() + b"}",
        b'{"kind": "end", "status": [], "adapter_path": 7, "t": -1e300}',
        b'{"kind": "message", "text": "\xff\xfe not UTF-8"}',
        b"x" * (2 * 1024 * 1024),
    ]
    with open(run / "events.jsonl", "ab") as handle:
        handle.write(b"\n".join(lines) + b"\n")
    runs = listed(run_cli(["runs", "--json"]))
    assert runs[BAD]["status"] in ("unknown", "finished")  # the last end event's status
    assert run_cli(["runs"]).code == 0
    assert run_cli(["report", BAD]).code == 0
    assert run_cli(["stop", BAD]).code == 0


@pytest.mark.slow
def test_a_live_run_whose_lock_file_is_a_fifo_cannot_be_stopped_but_says_why(
    runs_root: Path,
) -> None:
    run = good_run(runs_root, BAD, exit_code=None)
    (run / "events.jsonl").write_text("")
    # A live "engine": its command line names the run, as the real one's does.
    engine = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", BAD])
    try:
        meta = json.loads((run / "run.json").read_text())
        (run / "run.json").write_text(json.dumps({**meta, "pid": engine.pid, "host": None}))
        os.mkfifo(run / ".run.json.lock")
        stop = run_cli(["stop", BAD])
        assert stop.code == 1 and "not a regular file" in stop.err
    finally:
        engine.kill()
        engine.wait()


def test_an_overlong_events_line_is_skipped_across_reads_and_the_next_event_kept(tmp_path):
    from engines.protocol import MAX_EVENT_BYTES, EventTail

    events = tmp_path / "events.jsonl"
    start = b'{"kind": "start", "steps": 2}\n'
    step = b'{"kind": "step", "step": 1}\n'
    events.write_bytes(
        start + b'{"kind": "message", "text": "' + b"x" * 3 * MAX_EVENT_BYTES + b'"}\n' + step
    )
    tail, kinds, held = EventTail(events), [], 0
    while True:
        before = tail.offset
        kinds += [event["kind"] for event in tail.read(max_bytes=MAX_EVENT_BYTES // 4)]
        held = max(held, len(tail._pending))
        if tail.offset == before:
            break
    assert kinds == ["start", "step"] and tail.skipped == 1
    assert held <= MAX_EVENT_BYTES  # the overlong line was never held whole
