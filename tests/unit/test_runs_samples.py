"""The no-signal warning from GRPO's samples events (cockpit/runs/samples.py)."""

from __future__ import annotations

from cockpit.runs.samples import NO_SIGNAL_STEPS, SampleLog


def _event(step: int, total_std: float, **reward_std: float) -> dict:
    group = {"prompt": "p", "size": 4, "total_std": total_std, "reward_std": reward_std,
             "completions": []}  # fmt: skip
    return {"kind": "samples", "step": step, "groups": [group, dict(group)]}


def test_the_warning_comes_after_enough_flat_steps_and_names_the_constant_rewards():
    log = SampleLog()
    for step in range(1, NO_SIGNAL_STEPS):
        log.add(_event(step, 0.0, format=0.0, length=0.0))
        assert log.no_signal() is None
    log.add(_event(NO_SIGNAL_STEPS, 0.0, format=0.0, length=0.2, exact=0.0))
    warning = log.no_signal()
    assert warning.startswith(f"No reward signal for {NO_SIGNAL_STEPS} logged steps")
    assert "(constant: 'format')" in warning  # length varied once


def test_one_step_with_a_difference_ends_the_warning():
    log = SampleLog().add_all(_event(s, 0.0, format=0.0) for s in range(1, 9))
    assert log.no_signal()
    log.add(_event(9, 0.5, format=0.5))
    assert log.no_signal() is None and log.flat_streak == 0


def test_bad_events_count_as_no_news():
    log = SampleLog().add_all([{"kind": "samples", "groups": "x"}, {"kind": "samples"}] * 4)
    assert log.no_signal() is None and len(log.events) == 8
