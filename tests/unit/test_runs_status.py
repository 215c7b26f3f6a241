"""Run status derivation: what `cockpit runs` says about a run, rule by rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.runs.status import (
    EXIT_0_NO_STEP,
    NEVER_STARTED_S,
    NO_END,
    EventFold,
    crash_reason,
    derive_status,
    summarize,
)


def _ev(kind: str, t: float = 0.0, **fields) -> dict:
    return {"t": t, "kind": kind, **fields}


START = _ev("start", 10.0, steps=3, engine="sft", backend="peft", device="cpu")
STEPS = [_ev("step", 10.0 + i, step=i, loss=3.0 / i) for i in (1, 2, 3)]
LAUNCHED = {"pid": 4242, "started": 9.0, "starts_before": 0, "host": "here"}


def _fold(*events: dict) -> EventFold:
    return EventFold().add_all(events)


@pytest.mark.parametrize(
    ("events", "meta", "alive", "expected"),
    [
        ([], {}, None, ("starting", "")),
        ([], LAUNCHED, True, ("starting", "")),
        ([START], LAUNCHED, True, ("starting", "")),
        ([START, STEPS[0]], LAUNCHED, True, ("running", "")),
        ([START, *STEPS, _ev("end", status="finished", steps_done=3)], LAUNCHED, False,
         ("finished", "")),
        ([START, STEPS[0]], LAUNCHED | {"stop_requested": 1.0}, True, ("running", "stopping")),
    ],
)  # fmt: skip
def test_live_and_finished_runs(events, meta, alive, expected):
    assert derive_status(meta, _fold(*events), alive) == expected


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSEGV", "SIGABRT"])
def test_a_run_killed_by_a_signal_is_crashed_with_the_signal_name(sig):
    status, reason = derive_status(
        LAUNCHED | {"exit_code": None, "signal": sig}, _fold(START, STEPS[0]), False
    )
    assert status == "crashed" and reason.startswith(sig)


def test_a_vanished_process_without_a_record_is_crashed():
    assert derive_status(LAUNCHED, _fold(START, STEPS[0]), False) == ("crashed", NO_END)


def test_exit_0_without_a_step_is_failed_never_finished():
    status, reason = derive_status(LAUNCHED | {"exit_code": 0}, _fold(), False)
    assert (status, reason) == ("failed", EXIT_0_NO_STEP)
    assert "wrong interpreter" in reason


def test_exit_0_after_steps_but_without_an_end_is_not_finished():
    status, reason = derive_status(LAUNCHED | {"exit_code": 0}, _fold(START, *STEPS), False)
    assert status == "crashed" and "without an end event" in reason


def test_a_nonzero_exit_without_an_end_is_crashed_with_the_code():
    status, reason = derive_status(LAUNCHED | {"exit_code": 1}, _fold(), False)
    assert status == "crashed" and "code 1" in reason


@pytest.mark.parametrize(
    "end",
    [_ev("end", status="finished", steps_done=0), _ev("end", status="finished")],
)
def test_finished_with_zero_steps_is_failed(end):
    status, reason = derive_status(LAUNCHED | {"exit_code": 0}, _fold(START, end), False)
    assert status == "failed" and "trained 0 steps" in reason


def test_an_engine_error_is_failed_with_its_class_and_message():
    end = _ev("end", status="failed", error_class="KeyError", error_message="'messages'")
    status, reason = derive_status(LAUNCHED | {"exit_code": 1}, _fold(START, end), False)
    assert (status, reason) == ("failed", "KeyError: 'messages'")


def test_a_graceful_stop_is_stopped_at_its_step():
    end = _ev("end", status="stopped", steps_done=2)
    assert derive_status(LAUNCHED, _fold(START, *STEPS[:2], end), False) == (
        "stopped",
        "stopped at step 2",
    )


def test_a_stop_that_needed_a_kill_is_stopped_not_crashed():
    meta = LAUNCHED | {"stop_requested": 5.0, "signal": "SIGKILL"}
    status, reason = derive_status(meta, _fold(START, STEPS[0]), False)
    assert status == "stopped" and "SIGKILL" in reason


def test_a_run_created_but_never_spawned_ends_as_failed():
    meta = {"created": 1000.0}
    assert derive_status(meta, _fold(), None, now=1010.0)[0] == "starting"
    status, reason = derive_status(meta, _fold(), None, now=1000.0 + NEVER_STARTED_S + 1)
    assert status == "failed" and "never started" in reason


def test_a_spawn_error_is_failed_with_the_reason():
    meta = {"spawn_error": "/venv/bin/python: No such file or directory"}
    status, reason = derive_status(meta, _fold(), False)
    assert status == "failed" and "/venv/bin/python" in reason


def test_another_hosts_run_is_not_called_crashed():
    status, reason = derive_status(LAUNCHED | {"host": "gpu-box"}, _fold(START, STEPS[0]), None)
    assert status == "running" and "gpu-box" in reason


def test_a_resumed_run_ignores_the_previous_segments_end_until_its_own_start():
    stopped = [START, STEPS[0], _ev("end", status="stopped")]
    resumed = LAUNCHED | {"starts_before": 1}
    assert derive_status(resumed, _fold(*stopped), True)[0] == "starting"
    again = [*stopped, _ev("start", 30.0, steps=3, resumed_from=1), STEPS[1]]
    assert derive_status(resumed, _fold(*again), True)[0] == "running"
    done = [*again, STEPS[2], _ev("end", status="finished", steps_done=3)]
    assert derive_status(resumed | {"exit_code": 0}, _fold(*done), False)[0] == "finished"


def test_summary_fields_come_from_run_json_and_events():
    events = [
        START,
        *STEPS,
        _ev("checkpoint", 13.5, step=3, path="/r/checkpoints/checkpoint-3"),
        _ev("end", 14.0, status="finished", steps_done=3, adapter_path="/r/adapter"),
    ]
    meta = LAUNCHED | {"id": "r1", "profile": "tiny", "engine": "sft", "exit_code": 0}
    s = summarize(Path("/runs/r1"), meta, _fold(*events), False, now=100.0)
    assert (s.id, s.status, s.step, s.total_steps) == ("r1", "finished", 3, 3)
    assert s.last_loss == pytest.approx(1.0)
    assert (s.started, s.ended, s.duration_s) == (9.0, 14.0, 5.0)
    assert s.adapter_path == "/r/adapter" and s.last_checkpoint.endswith("checkpoint-3")
    assert s.to_json()["started"] == "1970-01-01T00:00:09+00:00"
    assert not s.active


def test_a_run_is_listed_under_its_folder_name_whatever_its_run_json_says():
    meta = LAUNCHED | {"id": "someone-elses-run", "exit_code": 0}
    s = summarize(Path("/runs/r2"), meta, _fold(START, *STEPS), False, now=100.0)
    assert s.id == "r2"  # the name `cockpit stop` / `report` look up


def test_a_running_summary_counts_its_duration_to_now():
    s = summarize(Path("/r"), LAUNCHED, _fold(START, STEPS[0]), True, now=19.0)
    assert s.status == "running" and s.ended is None and s.duration_s == 10.0 and s.active


def test_garbage_values_in_run_json_do_not_break_the_summary():
    meta = {"pid": "not a pid", "started": "yesterday", "exit_code": True, "starts_before": None}
    s = summarize(Path("/r"), meta, _fold({"kind": "step", "step": "x", "t": "?"}), False)
    assert s.id == "r" and s.step is None and s.started is None


# -- an end event written by the current launch wins (issue 10, defects 9 and 10) --------

FAILED_LOADING = _ev(
    "end", 20.0, status="failed", steps_done=0, error_class="ModuleNotFoundError",
    error_message="No module named 'torch'",
)  # fmt: skip


@pytest.mark.parametrize(
    "meta",
    [
        LAUNCHED | {"ends_before": 0},
        {"pid": 4242, "starts_before": 0, "launch_started": 19.0},  # before `ends_before`
    ],
)
def test_a_failure_before_the_first_start_is_failed_with_the_engines_error(meta):
    status, reason = derive_status(meta | {"exit_code": 1}, _fold(FAILED_LOADING), False)
    assert (status, reason) == ("failed", "ModuleNotFoundError: No module named 'torch'")


def test_a_resume_that_fails_before_its_start_is_failed_not_the_previous_end():
    first = [START, *STEPS[:2], _ev("end", 15.0, status="stopped", steps_done=2)]
    meta = LAUNCHED | {"starts_before": 1, "ends_before": 1, "exit_code": 1}
    corrupt = _ev("end", 30.0, status="failed", error_class="EngineError", error_message="bad")
    assert derive_status(meta, _fold(*first, corrupt), False) == ("failed", "EngineError: bad")
    status, reason = derive_status(meta, _fold(*first), False)  # this launch wrote no end
    assert status == "crashed" and "code 1" in reason


def test_an_old_runs_previous_end_is_not_taken_for_the_current_launchs():
    first = [START, STEPS[0], _ev("end", 15.0, status="stopped", steps_done=1)]
    meta = {"pid": 4242, "starts_before": 1, "launch_started": 25.0, "exit_code": 1}
    assert derive_status(meta, _fold(*first), False)[0] == "crashed"


def test_a_stop_while_loading_is_stopped_not_failed():
    stopped = _ev("end", 20.0, status="stopped", steps_done=0)
    meta = LAUNCHED | {"ends_before": 0, "exit_code": 0, "stop_requested": 19.5}
    status, reason = derive_status(meta, _fold(stopped), False)
    assert status == "stopped" and "before its first step" in reason


def test_a_stopped_engine_that_exited_0_without_an_end_is_stopped_not_a_wrong_interpreter():
    meta = LAUNCHED | {"ends_before": 0, "exit_code": 0, "stop_requested": 19.5}
    status, reason = derive_status(meta, _fold(), False)
    assert status == "stopped" and "wrong interpreter" not in reason


def test_the_summary_takes_the_current_launchs_end():
    meta = LAUNCHED | {"ends_before": 0, "exit_code": 1, "ended": 21.0}
    s = summarize(Path("/r"), meta, _fold(FAILED_LOADING), False, now=100.0)
    assert (s.status, s.ended) == ("failed", 20.0)
    assert s.extra["error_class"] == "ModuleNotFoundError"


# -- a full disk is named (issue 10, defect 11) -------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "OSError: [Errno 28] No space left on device",
        "RuntimeError: write failed: ENOSPC",
    ],
)
def test_a_crash_with_a_full_disk_at_the_outputs_tail_names_the_disk_and_the_fix(line):
    tail = ["{'loss': 2.1, 'step': 7}", "Traceback (most recent call last):", line]
    reason = crash_reason(NO_END, tail)
    assert reason.startswith("no space left on device") and NO_END in reason
    assert "free disk space" in reason and "resume" in reason


def test_a_crash_whose_exit_could_not_be_recorded_for_lack_of_space_names_the_disk():
    assert "no space left on device" in crash_reason(NO_END, [], unrecorded="ENOSPC")
    assert "EROFS" in crash_reason(NO_END, [], unrecorded="EROFS")


def test_a_crash_without_a_disk_message_keeps_its_reason():
    assert crash_reason(NO_END, ["Segmentation fault (core dumped)"]) == NO_END
