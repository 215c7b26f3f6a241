"""`cockpit train / runs / stop` as a user runs them (subprocesses, fake engine, temp runs dir)."""

from __future__ import annotations

import json
import os
import resource
import signal

import pytest

from tests.runs_helpers import TINY, cockpit, cockpit_popen, wait_for

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

pytest_plugins = ["tests.runs_fixtures"]

DEADLINE_S = 60.0
"""How long a CLI may take to react: generous, since a busy machine (a parallel test run)
slows every subprocess down; a hang still fails."""


def _runs() -> list[dict]:
    done = cockpit("runs", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_train_follows_to_the_end_and_runs_lists_it_finished(fake_engine):
    done = cockpit("train", "tiny-demo-cpu")
    assert done.returncode == 0, done.stderr
    assert "training 5 steps on cpu" in done.stdout
    assert "finished: step 5/5" in done.stdout and "adapter:" in done.stdout
    (run,) = _runs()
    assert run["status"] == "finished" and run["step"] == run["total_steps"] == 5
    assert run["profile"] == "tiny-demo-cpu" and run["engine"] == "sft"


def test_a_failing_run_exits_1_with_its_error_and_last_output(fake_engine):
    fake_engine("steps=1,then=raise")
    done = cockpit("train", str(TINY))
    assert done.returncode == 1
    assert "failed" in done.stdout and "ValueError: column 'messages' not found" in done.stdout
    assert "last lines of" in done.stdout and "Traceback" in done.stdout


def test_a_crash_exits_1_and_names_the_signal(fake_engine):
    fake_engine("steps=1,then=crash:SIGABRT")
    done = cockpit("train", str(TINY))
    assert done.returncode == 1 and "crashed" in done.stdout and "SIGABRT" in done.stdout
    table = cockpit("runs").stdout
    assert "crashed" in table and "└ SIGABRT" in table


def test_a_refused_profile_exits_2_with_key_and_fix_and_creates_no_run(fake_engine, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.read_text().replace("data/demo.jsonl", "data/missing.jsonl"))
    done = cockpit("train", str(bad))
    assert done.returncode == 2
    assert "data.path: no file" in done.stderr and "fix:" in done.stderr
    assert "Traceback" not in done.stderr
    assert _runs() == []


def test_an_unknown_profile_name_exits_2(fake_engine):
    done = cockpit("train", "no-such-profile")
    assert done.returncode == 2 and "cockpit profiles" in done.stderr


def test_detach_then_runs_then_stop(fake_engine):
    fake_engine("steps=2,then=hang")
    done = cockpit("train", "tiny-demo-cpu", "--detach")
    assert done.returncode == 0 and "detached" in done.stdout
    running = wait_for(lambda: [r["id"] for r in _runs() if r["status"] == "running"], DEADLINE_S)
    run_id = running[0]
    assert run_id in cockpit("runs").stdout
    stopped = cockpit("stop", run_id)
    assert stopped.returncode == 0, stopped.stderr
    assert f"run {run_id} stopped" in stopped.stdout
    assert _runs()[0]["status"] == "stopped"
    again = cockpit("stop", run_id)
    assert again.returncode == 0 and "not running (stopped)" in again.stdout


def test_train_resume_continues_a_crashed_run_in_the_same_dir(fake_engine):
    fake_engine("steps=2,then=crash:SIGKILL")
    assert cockpit("train", "tiny-demo-cpu").returncode == 1
    (crashed,) = _runs()
    fake_engine("steps=3")
    done = cockpit("train", "tiny-demo-cpu", "--resume", crashed["id"][:15])
    assert done.returncode == 0, done.stderr
    assert f"resuming run {crashed['id']}" in done.stdout and "finished: step 3/3" in done.stdout
    (run,) = _runs()
    assert run["id"] == crashed["id"] and run["status"] == "finished"


def test_stop_of_an_unknown_run_is_an_error(runs_dir):
    done = cockpit("stop", "nope")
    assert done.returncode == 1 and "no run 'nope'" in done.stderr


def _follow_then_ctrl_c(answer: str):
    """Start following a hanging run, press Ctrl-C (SIGINT to the terminal's process group)
    and answer the prompt; returns the finished CLI process and its output."""
    proc = cockpit_popen("train", "tiny-demo-cpu", start_new_session=True)
    try:
        wait_for(lambda: any(r["step"] == 2 for r in _runs()), DEADLINE_S, "the run to train")
        proc.stdin.write(answer + "\n")
        proc.stdin.flush()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc, out, err


def test_ctrl_c_then_no_detaches_and_the_run_goes_on(fake_engine):
    fake_engine("steps=2,then=hang")
    proc, out, err = _follow_then_ctrl_c("n")
    assert proc.returncode == 0, err
    assert "Stop the run? [y: stop it / N: leave it running in the background]" in out
    assert "detached; the run goes on" in out
    (run,) = _runs()
    assert run["status"] == "running"  # the terminal's Ctrl-C never reached the engine


def test_ctrl_c_reaches_the_cli_also_when_the_test_run_ignores_it(fake_engine):
    """A suite started in the background (`cmd &` in a script, nohup) ignores SIGINT, and its
    children inherit that: the CLI never saw the test's Ctrl-C and these tests hung. The
    CLI is started as from a terminal, with Ctrl-C's default action."""
    fake_engine("steps=2,then=hang")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc, out, err = _follow_then_ctrl_c("n")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert proc.returncode == 0, err
    assert "Stop the run? [y: stop it / N: leave it running in the background]" in out
    assert "detached; the run goes on" in out


def test_the_run_survives_its_terminal_closing(fake_engine):
    """An SSH drop: the follower's whole session gets SIGHUP and dies; the run trains on."""
    fake_engine("steps=2,then=hang")
    proc = cockpit_popen("train", "tiny-demo-cpu", start_new_session=True)
    try:
        wait_for(lambda: any(r["step"] == 2 for r in _runs()), DEADLINE_S, "the run to train")
        os.killpg(proc.pid, signal.SIGHUP)
        proc.wait(timeout=DEADLINE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGHUP
    (run,) = _runs()
    assert run["status"] == "running"


def test_ctrl_c_then_yes_stops_gracefully(fake_engine):
    fake_engine("steps=2,then=hang")
    proc, out, err = _follow_then_ctrl_c("y")
    assert proc.returncode == 130, err
    assert "asked the engine to stop" in out and "stopped: step 2/2" in out
    (run,) = _runs()
    assert run["status"] == "stopped" and run["last_checkpoint"].endswith("checkpoint-2")


def test_a_disk_that_fills_up_is_a_clear_error_and_runs_still_works(fake_engine):
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    done = cockpit("train", "tiny-demo-cpu", preexec_fn=small_files)
    assert done.returncode == 1
    assert "cannot create a run" in done.stderr and "disk" in done.stderr
    assert "Traceback" not in done.stderr
    listed = cockpit("runs")
    assert listed.returncode == 0 and "no runs in" in listed.stdout
