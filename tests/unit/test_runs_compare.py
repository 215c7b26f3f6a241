"""Runs side by side: curves by step and tokens, and the profile keys that differ."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cockpit.runs.compare import compare_runs, differing_keys
from cockpit.runs.store import RunStoreError
from tests.compare_fixtures import write_run


def test_curves_and_the_keys_that_differ(tmp_path):
    write_run(tmp_path, "20261201-100000-a", lr=1e-3, evals=True)
    write_run(tmp_path, "20261201-110000-b", lr=5e-3, steps=30)
    comparison = compare_runs(["20261201-10", "20261201-11"], tmp_path)  # prefixes will do
    first, second = comparison.runs
    assert (first.id, second.id) == ("20261201-100000-a", "20261201-110000-b")
    assert comparison.differing == {
        "train.learning_rate": [1e-3, 5e-3],
        "train.max_steps": [40, 30],
    }
    xs, ys = first.series("loss")
    assert xs == [float(s) for s in range(1, 41)] and ys[0] > ys[-1]
    assert first.series("loss", "tokens")[0][:2] == [2048.0, 4096.0]
    assert second.best("loss") < first.best("loss")  # the larger lr fell further
    assert comparison.curves == ["loss", "eval_loss"] and comparison.has_tokens
    assert [p[0] for p in first.points["eval_loss"]] == [10, 20, 30, 40]


def test_a_resumed_run_counts_each_step_once_and_older_runs_have_no_tokens(tmp_path):
    write_run(tmp_path, "20261201-100000-a", lr=1e-3, resumed_at=10, tokens=False)
    write_run(tmp_path, "20261201-110000-b", lr=1e-3)
    comparison = compare_runs(["20261201-100000-a", "20261201-110000-b"], tmp_path)
    steps = comparison.runs[0].series("loss")[0]
    assert steps == sorted(set(steps)) and len(steps) == 40
    assert comparison.differing == {} and not comparison.has_tokens
    assert comparison.to_json()["x_axes"] == ["step"]


def test_keys_missing_from_one_profile_show_as_missing():
    assert differing_keys([{"a": {"x": 1}}, {"a": {"x": 1, "y": 2}}]) == {"a.y": ["—", 2]}


def test_an_unknown_run_is_named(tmp_path):
    write_run(tmp_path, "20261201-100000-a", lr=1e-3)
    with pytest.raises(RunStoreError, match="no run 'nope'"):
        compare_runs(["20261201-100000-a", "nope"], tmp_path)


@pytest.mark.slow
def test_cockpit_runs_compare_json_and_text(tmp_path):
    write_run(tmp_path, "20261201-100000-a", lr=1e-3)
    write_run(tmp_path, "20261201-110000-b", lr=5e-3)
    env = {"COCKPIT_RUNS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "cockpit", "runs", "--compare", "20261201-10", "20261201-11"]
    said = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env)
    assert said.returncode == 0, said.stderr
    body = json.loads(said.stdout)
    assert [r["id"] for r in body["runs"]] == ["20261201-100000-a", "20261201-110000-b"]
    assert body["differing_keys"] == {"train.learning_rate": [0.001, 0.005]}
    assert body["runs"][1]["curves"]["loss"][0] == {"step": 1, "tokens": 2048.0, "value": 6.816}
    text = subprocess.run(command, capture_output=True, text=True, env=env).stdout
    assert "train.learning_rate  0.001" in text and "[2] 20261201-110000-b  finished" in text
    one = subprocess.run(command[:-1], capture_output=True, text=True, env=env)
    assert one.returncode == 2 and "give two runs or more" in one.stderr
