"""The run store: runs created whole, listed newest first, never broken by one bad run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from cockpit.runs.store import (
    RunStoreError,
    create_run,
    find_run,
    list_runs,
    load_run,
    output_tail,
    runs_root,
)
from tests.runs_helpers import REPO, TINY

pytest_plugins = ["tests.runs_fixtures"]

NOON = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC


def test_runs_root_is_overridable(runs_dir):
    assert runs_root() == runs_dir


def test_a_new_run_has_an_id_a_frozen_profile_and_a_record(runs_dir, tmp_path):
    run = create_run(TINY, now=NOON)
    assert run.id == "20261118-110640-tiny-demo-cpu"
    assert run.path.parent == runs_dir
    frozen = tomllib.loads(run.profile_file.read_text())
    data = Path(frozen["data"]["path"])
    assert data.is_absolute() and data == (REPO / "profiles/data/demo.jsonl")
    assert frozen["train"]["max_steps"] == 30  # everything else as written
    meta = json.loads(run.run_json.read_text())
    assert meta["id"] == run.id and meta["profile"] == "tiny-demo-cpu"
    assert meta["engine"] == "sft" and meta["created"] == NOON
    assert meta["profile_source"] == str(TINY.resolve())
    summary = load_run(run.id, now=NOON + 1)
    assert summary.status == "starting" and summary.profile == "tiny-demo-cpu"


def test_a_taken_id_gets_a_suffix(runs_dir):
    ids = [create_run(TINY, now=NOON).id for _ in range(3)]
    assert ids[1:] == [f"{ids[0]}-2", f"{ids[0]}-3"]


def test_profile_names_become_safe_folder_names(runs_dir, tmp_path):
    profile = tmp_path / "p.toml"
    text = TINY.read_text().replace('name = "tiny-demo-cpu"', 'name = "my run .. x y"')
    profile.write_text(text)
    (tmp_path / "data").mkdir()
    (tmp_path / "data/demo.jsonl").write_text('{"text": "hi"}\n')
    run = create_run(profile, now=NOON)
    assert run.path.parent == runs_dir
    assert run.id == "20261118-110640-my-run-..-x-y"


def test_an_invalid_profile_creates_nothing(runs_dir, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[model]\nname_or_path = "cockpit:tiny-llama"\n[train]\nbatch = 2\n')
    with pytest.raises(RunStoreError, match=r"train\.batch"):
        create_run(bad)
    assert list_runs() == []


def test_runs_are_listed_newest_first(runs_dir):
    old = create_run(TINY, now=NOON)
    new = create_run(TINY, now=NOON + 60)
    assert [s.id for s in list_runs()] == [new.id, old.id]


def test_a_corrupt_record_shows_as_unknown_and_the_others_still_list(runs_dir):
    good = create_run(TINY, now=NOON)
    bad = create_run(TINY, now=NOON + 1)
    bad.run_json.write_text('{"id": "half a rec')
    (runs_dir / "no-record").mkdir()
    summaries = {s.id: s for s in list_runs(now=NOON + 2)}
    assert summaries[good.id].status == "starting"
    assert summaries[bad.id].status == "unreadable" and "not valid JSON" in summaries[bad.id].reason
    assert (
        summaries["no-record"].status == "unreadable"
        and "no run.json" in summaries["no-record"].reason
    )


def test_corrupt_event_lines_are_skipped(runs_dir):
    run = create_run(TINY, now=NOON)
    lines = [
        json.dumps({"t": 1, "kind": "start", "steps": 4}),
        "{not json",
        json.dumps({"t": 2, "kind": "step", "step": 1, "loss": 2.5}),
        "\x00\xff garbage",
        json.dumps({"t": 3, "kind": "step", "step": 2, "loss": 2.0}),
        '{"t": 4, "kind": "step", "step": 3',  # a killed writer's half line
    ]
    run.events.write_text("\n".join(lines))
    summary = load_run(run.id)
    assert (summary.step, summary.total_steps, summary.last_loss) == (2, 4, 2.0)


def test_half_created_runs_are_not_listed(runs_dir):
    create_run(TINY, now=NOON)
    (runs_dir / ".creating-abc").mkdir()
    assert len(list_runs()) == 1


def test_find_run_by_unique_prefix(runs_dir):
    a = create_run(TINY, now=NOON)
    create_run(TINY, now=NOON + 3600)
    assert find_run(a.id[:11]).id == a.id  # "20261118-07" is only the first
    with pytest.raises(RunStoreError, match="several runs"):
        find_run("2026")
    with pytest.raises(RunStoreError, match=r"no run 'nope'.*cockpit runs"):
        find_run("nope")


def test_a_missing_root_is_no_runs(runs_dir):
    assert list_runs() == [] and not runs_dir.exists()


def test_a_file_where_the_runs_folder_should_be_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(blocker / "runs"))
    with pytest.raises(RunStoreError) as caught:
        create_run(TINY)
    assert str(caught.value) == (
        f"cannot create a run: COCKPIT_RUNS_DIR points to {blocker / 'runs'}, but {blocker} is "
        "a file, not a folder; set it to a folder"
    )
    assert list_runs() == []


def test_runs_dir_naming_a_file_says_so_not_file_exists(tmp_path, monkeypatch):
    blocker = tmp_path / "passwd"
    blocker.write_text("root:x:0:0::/root:/bin/sh\n")
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(blocker))
    with pytest.raises(RunStoreError) as caught:
        create_run(TINY)
    assert str(caught.value) == (
        f"cannot create a run: COCKPIT_RUNS_DIR points to {blocker}, which is a file, not a "
        "folder; set it to a folder"
    )
    assert "File exists" not in str(caught.value)


@pytest.mark.slow
def test_a_disk_full_midway_leaves_nothing_behind(runs_dir):
    """A file size limit makes the profile write fail like a full disk (EFBIG)."""
    create_run(TINY, now=NOON)
    code = (
        "import resource, sys\n"
        "from cockpit.runs.store import create_run, RunStoreError\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))\n"
        "try:\n    create_run(sys.argv[1])\n"
        "except RunStoreError as e:\n    print(e)\n    sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(TINY)], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 3, done.stderr
    assert "cannot create a run" in done.stdout and "disk" in done.stdout
    assert sorted(p.name for p in runs_dir.iterdir()) == [list_runs()[0].id]


def test_output_tail_shows_the_last_lines_with_progress_redraws_collapsed(runs_dir):
    run = create_run(TINY, now=NOON)
    run.output.write_bytes(b"one\ntwo\r\n 10%\r 50%\r100%\nbad \xff byte\n\n")
    assert output_tail(run, 3) == ["two", "100%", "bad \ufffd byte"]
    assert output_tail(run, 0) == []
