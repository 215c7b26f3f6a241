"""Fuzzed run folders never make `cockpit runs --json`, `report`, `stop` or the Runs place's
readers (its listing, kept between refreshes, and the open run's feed) raise or hang
(issue 10): random bytes, random JSON (NaN, huge numbers, deep nesting, wrong types), FIFOs,
directories, /dev/zero and mode 000 in run.json and events.jsonl. Each call has 5 s.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.runs.feed import RunFeed
from cockpit.runs.store import EventFolds, list_runs
from tests.damaged_runs import as_root, good_run, listed, nested, run_cli, spoil, within

RUN = "fuzzed-run"
SPECIAL = ["fifo", "dir", "devzero", "missing"] + ([] if as_root() else ["perm000"])
"""Non-files in place of a file; mode 000 only for a user it stops (root reads it anyway)."""

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**62, max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 2**70, 0, -1, 1.7e9]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
META_KEYS = ["id", "pid", "pgid", "reaper_pid", "created", "started", "ended", "exit_code"]
META_KEYS += ["signal", "starts_before", "history", "host", "stop_requested", "launches"]
EVENT_KEYS = ["t", "kind", "step", "steps", "loss", "status", "steps_done", "path", "epoch"]


def _dumps(value: object) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def _record(keys: list[str]) -> st.SearchStrategy[bytes]:
    """A JSON object of known keys holding values of any type (NaN and 2**70 included)."""
    return st.dictionaries(st.sampled_from(keys), values, max_size=6).map(_dumps)


deep = st.integers(min_value=50, max_value=200_000).map(lambda n: nested(n).encode())
raw_json = st.sampled_from([b"NaN", b"1e999", b"-Infinity", b"9" * 5000, b"[", b"{}", b"null"])
meta_content = st.one_of(
    _record(META_KEYS), st.binary(max_size=300), deep, raw_json, values.map(_dumps)
)
event_line = st.one_of(
    _record(EVENT_KEYS),
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["start", "step", "end", "checkpoint"])}
    ).flatmap(
        lambda e: st.dictionaries(st.sampled_from(EVENT_KEYS), values, max_size=5).map(
            lambda extra: _dumps({**extra, **e})
        )
    ),
    st.binary(max_size=80),
    deep,
    raw_json,
)
events_content = st.lists(event_line, max_size=6).map(lambda lines: b"\n".join(lines) + b"\n")


def _file(content: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes | str]:
    """File content, or the name of a non-file to put in its place (see `spoil`)."""
    return st.one_of(content, st.sampled_from(SPECIAL))


def _place(path: Path, content: bytes | str | None) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        spoil(path, content)


@pytest.fixture
def quiet_doctor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cockpit.doctor.runner.run_doctor", lambda *args, **kwargs: [])


@settings(
    max_examples=60,
    deadline=None,  # each call has its own 5 s limit (run_cli)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    meta=st.one_of(st.none(), _file(meta_content)),
    events=st.one_of(st.none(), _file(events_content)),
    output=st.sampled_from([None, "fifo", "devzero", "dir"]),
)
def test_a_fuzzed_run_folder_is_listed_reported_and_stopped_in_time(
    monkeypatch: pytest.MonkeyPatch,
    quiet_doctor: None,
    meta: bytes | str | None,
    events: bytes | str | None,
    output: str | None,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "runs"
        monkeypatch.setenv("COCKPIT_RUNS_DIR", str(root))
        monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(Path(folder) / "config"))
        run = good_run(root, RUN, exit_code=None)  # None: a live-looking run, so stop acts
        _place(run / "run.json", meta)
        _place(run / "events.jsonl", events)
        _place(run / "output.log", output)
        runs = listed(run_cli(["runs", "--json"]))
        assert list(runs) == [RUN]
        folds = EventFolds()
        for _ in range(2):  # the Runs place lists every 2 s, reading only what is new
            (summary,) = within("the Runs place's listing", lambda: list_runs(folds=folds))
            assert summary.id == RUN
        within("the open run's feed", lambda: RunFeed(run, 4.0).poll())
        assert run_cli(["report", RUN]).code in (0, 2)
        assert run_cli(["stop", RUN]).code in (0, 1)
