"""Trainer hooks become protocol events (rank 0 only) and a stop request ends training."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from engines.emitter import Emitter
from engines.protocol import read_events

if TYPE_CHECKING:
    import torch

    from engines.callbacks import EventCallback


@pytest.fixture(scope="module")
def callbacks():
    """engines.callbacks, imported when a test runs: it imports transformers and torch."""
    from engines import callbacks

    return callbacks


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, callbacks) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(callbacks, "time", fake)
    return fake


def _model() -> torch.nn.Module:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
    model[0].requires_grad_(False)
    return model


def _state(step: int = 0, zero: bool = True, tokens: int = 0) -> SimpleNamespace:
    return SimpleNamespace(
        is_world_process_zero=zero,
        global_step=step,
        max_steps=10,
        epoch=step / 10,
        num_input_tokens_seen=tokens,
    )


def _args(tmp_path) -> SimpleNamespace:
    return SimpleNamespace(
        num_train_epochs=1.0, world_size=1, output_dir=str(tmp_path / "checkpoints")
    )


def _callback(tmp_path, resumed: int | None = None) -> tuple[EventCallback, Emitter]:
    from engines.callbacks import EventCallback, RunInfo

    emitter = Emitter(tmp_path / "events.jsonl")
    return EventCallback(emitter, RunInfo("sft", "peft", "cpu", 251, resumed)), emitter


def test_train_begin_emits_the_totals(tmp_path, clock):
    callback, emitter = _callback(tmp_path, resumed=4)
    callback.on_train_begin(_args(tmp_path), _state(4), None, model=_model())
    emitter.close()
    (start,) = read_events(tmp_path / "events.jsonl")
    assert start["kind"] == "start"
    assert start["steps"] == 10 and start["examples"] == 251 and start["resumed_from"] == 4
    assert (start["trainable_params"], start["total_params"]) == (10, 30)
    assert (start["backend"], start["device"], start["engine"], start["world_size"]) == (
        "peft",
        "cpu",
        "sft",
        1,
    )


def test_sft_logs_become_step_events_with_throughput(tmp_path, clock):
    callback, emitter = _callback(tmp_path)
    args = _args(tmp_path)
    callback.on_train_begin(args, _state(), None, model=_model())
    clock.now += 2.0
    logs = {"loss": 2.5, "learning_rate": 1e-3, "grad_norm": 0.5, "num_tokens": 400, "epoch": 0.1}
    callback.on_log(args, _state(1), None, logs=logs)
    clock.now += 0.5
    callback.on_log(args, _state(2), None, logs={**logs, "loss": 2.0, "num_tokens": 600})
    callback.on_log(args, _state(2), None, logs={"train_runtime": 3.0, "train_loss": 2.2})
    emitter.close()
    steps = [e for e in read_events(tmp_path / "events.jsonl") if e["kind"] == "step"]
    assert [(s["step"], s["loss"], s["tokens_per_s"]) for s in steps] == [
        (1, 2.5, 200.0),
        (2, 2.0, 400.0),
    ]
    assert steps[0]["lr"] == 1e-3 and steps[0]["grad_norm"] == 0.5 and steps[0]["epoch"] == 0.1
    assert steps[0]["peak_mem_bytes"] > 0
    assert "rewards" not in steps[0]


def test_grpo_logs_carry_rewards_length_and_kl(tmp_path, clock):
    callback, emitter = _callback(tmp_path)
    args = _args(tmp_path)
    callback.on_train_begin(args, _state(tokens=1000), None, model=_model())  # a resumed GRPO run
    clock.now += 1.0
    logs = {
        "loss": 0.01,
        "num_tokens": 1400,
        "rewards/format/mean": 0.5,
        "rewards/format/std": 0.1,
        "rewards/exact_match/mean": 0.25,
        "reward": 0.75,
        "completions/mean_length": 31.0,
        "kl": 0.002,
    }
    callback.on_log(args, _state(1), None, logs=logs)
    emitter.close()
    (step,) = [e for e in read_events(tmp_path / "events.jsonl") if e["kind"] == "step"]
    assert step["rewards"] == {"format": 0.5, "exact_match": 0.25}
    assert (step["reward"], step["completion_length"], step["kl"]) == (0.75, 31.0, 0.002)
    assert step["tokens_per_s"] == 400.0  # counted from the restored total, not from 0


def test_eval_and_checkpoint_events(tmp_path, clock):
    callback, emitter = _callback(tmp_path)
    args = _args(tmp_path)
    callback.on_evaluate(args, _state(5), None, metrics={"eval_loss": 1.5, "epoch": 0.5})
    callback.on_save(args, _state(5), None)
    emitter.close()
    evaluation, checkpoint = read_events(tmp_path / "events.jsonl")
    assert evaluation["kind"] == "eval" and evaluation["step"] == 5
    assert evaluation["eval_loss"] == 1.5 and "epoch" not in evaluation
    assert checkpoint["kind"] == "checkpoint" and checkpoint["step"] == 5
    assert checkpoint["path"] == str((tmp_path / "checkpoints" / "checkpoint-5").resolve())


def test_other_ranks_write_nothing(tmp_path, clock):
    callback, emitter = _callback(tmp_path)
    args = _args(tmp_path)
    callback.on_train_begin(args, _state(zero=False), None, model=_model())
    callback.on_log(args, _state(1, zero=False), None, logs={"loss": 1.0})
    callback.on_save(args, _state(1, zero=False), None)
    emitter.close()
    assert read_events(tmp_path / "events.jsonl") == []


def test_an_emitter_off_rank_zero_writes_no_file(tmp_path):
    emitter = Emitter(None)
    emitter.message("info", "hello")
    emitter.close()
    assert not list(tmp_path.iterdir())


def test_a_stop_request_ends_training_with_a_checkpoint(tmp_path, callbacks):
    requested = {"now": False}
    stopper = callbacks.StopCallback(lambda: requested["now"])
    control = SimpleNamespace(should_training_stop=False, should_save=False)
    stopper.on_step_end(_args(tmp_path), _state(3), control)
    assert not control.should_training_stop and stopper.stopped_at is None
    requested["now"] = True
    stopper.on_step_end(_args(tmp_path), _state(4), control)
    assert control.should_training_stop and control.should_save and stopper.stopped_at == 4


def test_four_bit_weights_count_twice(callbacks):
    import torch

    class Params4bit(torch.nn.Parameter):
        pass

    model = torch.nn.Linear(4, 4, bias=False)
    model.weight = Params4bit(torch.zeros(8), requires_grad=False)
    assert callbacks.count_parameters(model) == (0, 16)
