"""Real training on CPU through `python -m engines run`, as the supervisor starts it.

The tiny demo model is built once into a private cache by the first run; each test then
trains for real (seconds) and checks what a user watching the run would see: the events,
the saved adapter, the checkpoint, the exit code and the reason for a failure.
"""

from __future__ import annotations

import json
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engines.protocol import ADAPTER_DIR, CHECKPOINTS_DIR, TINY_LLAMA_ID
from tests.engines.helpers import (
    RUN_TIMEOUT,
    engine_command,
    engine_env,
    events,
    make_run_dir,
    output,
    run_engine,
)
from tests.engines.trainenv import make_training_venv


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-cache")


@pytest.fixture(scope="module")
def env(cache: Path) -> dict[str, str]:
    return engine_env(cache)


def _kinds(run_dir: Path) -> list[str]:
    return [e["kind"] for e in events(run_dir) if e["kind"] != "message"]


def _messages(run_dir: Path) -> str:
    return "\n".join(e["text"] for e in events(run_dir, "message"))


def _wait_for(condition: Callable[[], object], timeout: float = 120.0) -> None:
    """Poll a condition on files a child process writes (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the engine")
        time.sleep(0.02)


def test_tiny_sft_demo_trains_to_the_end_and_saves_an_adapter(tmp_path, env):
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu")
    started = time.perf_counter()
    result = run_engine(run_dir, env)
    print(f"tiny SFT demo (30 steps): {time.perf_counter() - started:.1f} s wall")
    assert result.returncode == 0, output(run_dir)
    kinds = _kinds(run_dir)
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert set(kinds[1:-1]) == {"step", "checkpoint"}  # save_steps = 10: crash-resumable
    assert [c["step"] for c in events(run_dir, "checkpoint")] == [10, 20, 30]
    kept = sorted(p.name for p in (run_dir / CHECKPOINTS_DIR).glob("checkpoint-*"))
    assert kept == ["checkpoint-20", "checkpoint-30"]  # save_total_limit = 2
    start, end = events(run_dir, "start")[0], events(run_dir, "end")[0]
    assert (start["steps"], start["backend"], start["device"], start["engine"]) == (
        30,
        "peft",
        "cpu",
        "sft",
    )
    assert 0 < start["trainable_params"] < start["total_params"]
    steps = events(run_dir, "step")
    assert [s["step"] for s in steps] == list(range(1, 31))
    losses = [s["loss"] for s in steps]
    assert statistics.mean(losses[-5:]) < statistics.mean(losses[:5]) - 0.05, losses
    assert all(s["tokens_per_s"] > 0 and s["peak_mem_bytes"] > 0 for s in steps)
    assert end["status"] == "finished" and end["steps_done"] == 30
    adapter = Path(end["adapter_path"])
    assert adapter == (run_dir / ADAPTER_DIR).resolve()
    assert (adapter / "adapter_config.json").is_file()
    assert (adapter / "adapter_model.safetensors").is_file()
    assert "backend: PEFT LoRA" in _messages(run_dir)


def test_tiny_grpo_runs_to_the_end_with_reward_events(tmp_path, env):
    run_dir = make_run_dir(tmp_path, "tiny-grpo-cpu")
    started = time.perf_counter()
    result = run_engine(run_dir, env)
    print(f"tiny GRPO (5 steps): {time.perf_counter() - started:.1f} s wall")
    assert result.returncode == 0, output(run_dir)
    steps = events(run_dir, "step")
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5]
    for step in steps:
        assert set(step["rewards"]) == {"format", "exact_match", "length"}
        assert all(0.0 <= v <= 1.0 for v in step["rewards"].values())
        assert step["reward"] == pytest.approx(sum(step["rewards"].values()))
        assert step["completion_length"] > 0 and step["kl"] is not None
    samples = events(run_dir, "samples")
    assert [s["step"] for s in samples] == [1, 2, 3, 4, 5]  # what was generated, each step
    group = samples[0]["groups"][0]
    assert group["size"] == 4 and "What is" in group["prompt"]  # a prompt of the data
    assert set(group["reward_std"]) == {"format", "exact_match", "length"}
    for row in group["completions"]:
        assert set(row["rewards"]) == {"format", "exact_match", "length"}
        assert row["total"] == pytest.approx(sum(row["rewards"].values()))
        assert isinstance(row["text"], str) and len(row["text"]) <= 400
    end = events(run_dir, "end")[0]
    assert end["status"] == "finished" and end["steps_done"] == 5
    assert events(run_dir, "start")[0]["engine"] == "grpo"
    assert "format prompt (detected from its columns)" in _messages(run_dir)
    assert "columns passed to the rewards: answer" in _messages(run_dir)


def test_a_4gb_gpu_qlora_profile_still_runs_on_cpu_and_says_what_changed(tmp_path, env):
    run_dir = make_run_dir(
        tmp_path,
        "rtx3050-4gb-llama-3.2-3b-qlora",
        model={"name_or_path": TINY_LLAMA_ID},
        train={"max_steps": 3},
    )
    result = run_engine(run_dir, env)
    assert result.returncode == 0, output(run_dir)
    warnings = [e["text"] for e in events(run_dir, "message") if e["level"] == "warning"]
    assert any("4-bit needs a CUDA GPU" in w for w in warnings)
    assert any("backend: PEFT LoRA (Unsloth needs a CUDA GPU" in w for w in warnings)
    assert any("optimizer adamw_8bit needs a CUDA GPU" in w for w in warnings)
    assert events(run_dir, "end")[0]["status"] == "finished"


def test_alpaca_data_full_fine_tune_with_an_eval_split(tmp_path, env):
    """Also: a console that cannot encode the output (the seeds' gbk UnicodeEncodeError)."""
    rows = [
        {"instruction": f"Add {i} and {i}.", "input": "", "output": str(2 * i)} for i in range(40)
    ]
    data = _write_jsonl(tmp_path / "données-alpaca.jsonl", rows)
    run_dir = make_run_dir(
        tmp_path,
        "tiny-demo-cpu",
        without=("lora",),
        data={"path": str(data), "format": "auto", "eval_fraction": 0.25},
        train={"max_steps": 4, "learning_rate": 1e-4},
    )
    result = run_engine(run_dir, {**env, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, output(run_dir)
    start = events(run_dir, "start")[0]
    assert start["backend"] == "full" and start["trainable_params"] == start["total_params"]
    assert start["examples"] == 30  # 10 of the 40 rows held out for evaluation
    assert "format instruction (detected from its columns)" in _messages(run_dir)
    evals = events(run_dir, "eval")
    assert [e["step"] for e in evals] == [1, 2, 3, 4] and all(e["eval_loss"] > 0 for e in evals)
    assert events(run_dir, "end")[0]["status"] == "finished"
    assert (run_dir / ADAPTER_DIR / "model.safetensors").is_file()  # the whole model
    assert "données-alpaca.jsonl" in output(run_dir)


def test_sigterm_stops_at_a_checkpoint_and_resume_finishes_the_run(tmp_path, env):
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", train={"max_steps": 300, "batch_size": 2})
    with open(run_dir / "output.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(engine_command(run_dir), stdout=log, stderr=log, env=env)
        try:
            _wait_for(lambda: events(run_dir, "step"))
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=RUN_TIMEOUT) == 0, output(run_dir)
        finally:
            proc.kill()
    end = events(run_dir, "end")[0]
    stopped_at = end["steps_done"]
    assert end["status"] == "stopped" and 0 < stopped_at < 300
    checkpoint = run_dir / CHECKPOINTS_DIR / f"checkpoint-{stopped_at}"
    assert Path(end["checkpoint_path"]) == checkpoint and checkpoint.is_dir()
    assert events(run_dir, "checkpoint")[-1]["step"] == stopped_at
    assert not (run_dir / ADAPTER_DIR).exists()

    result = run_engine(run_dir, env, "--resume")
    assert result.returncode == 0, output(run_dir)
    starts, ends = events(run_dir, "start"), events(run_dir, "end")
    assert [s["resumed_from"] for s in starts] == [None, stopped_at]
    assert [e["status"] for e in ends] == ["stopped", "finished"]
    assert ends[-1]["steps_done"] == 300
    step_numbers = [s["step"] for s in events(run_dir, "step")]
    assert step_numbers == list(range(1, 301))  # no step lost, none repeated
    assert (run_dir / ADAPTER_DIR / "adapter_model.safetensors").is_file()


def test_sigterm_while_loading_ends_stopped_not_crashed(tmp_path, env):
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", train={"max_steps": 300, "batch_size": 2})
    with open(run_dir / "output.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(engine_command(run_dir), stdout=log, stderr=log, env=env)
        try:
            _wait_for(lambda: events(run_dir, "message"))  # the first thing it says, then loads
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=RUN_TIMEOUT) == 0, output(run_dir)
        finally:
            proc.kill()
    (end,) = events(run_dir, "end")
    assert end["status"] == "stopped" and end["steps_done"] <= 1
    assert "SIGTERM: stopped at step" in _messages(run_dir)


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([{"question": "2+2?", "reply": "4"}] * 4, "columns ['question', 'reply']"),
        ([], "empty dataset"),
    ],
    ids=["missing-column", "empty-file"],
)
def test_bad_data_fails_with_the_reason_and_exit_code_1(tmp_path, env, rows, reason):
    data = _write_jsonl(tmp_path / "data.jsonl", rows)
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", data={"path": str(data), "format": "auto"})
    result = run_engine(run_dir, env)
    assert result.returncode == 1
    end = events(run_dir, "end")[0]
    assert end["status"] == "failed" and end["steps_done"] == 0
    assert end["error_class"] == "DataError" and reason in end["error_message"]
    assert not events(run_dir, "step")
    assert "Traceback" in output(run_dir)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_accelerate_run_writes_each_event_once(tmp_path, env):
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", train={"max_steps": 10})
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu"]
    launch += ["--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no"]
    launch += ["--dynamo_backend", "no", "--main_process_port", str(_free_port())]
    started = time.perf_counter()
    with open(run_dir / "output.log", "w", encoding="utf-8") as log:
        result = subprocess.run(
            [*launch, "-m", "engines", "run", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            timeout=RUN_TIMEOUT,
        )
    print(f"2-process accelerate run (10 steps): {time.perf_counter() - started:.1f} s wall")
    assert result.returncode == 0, output(run_dir)
    assert _kinds(run_dir).count("start") == 1 and _kinds(run_dir).count("end") == 1
    assert events(run_dir, "start")[0]["world_size"] == 2
    assert [s["step"] for s in events(run_dir, "step")] == list(range(1, 11))
    assert events(run_dir, "end")[0]["status"] == "finished"


def test_a_venv_with_only_the_training_stack_trains_to_the_end(tmp_path, cache):
    python, engines_home = make_training_venv(tmp_path)
    env = engine_env(cache, PYTHONPATH=str(engines_home))
    for absent in ("textual", "cockpit"):
        probe = subprocess.run(
            [str(python), "-c", f"import {absent}"], env=env, cwd=tmp_path, capture_output=True
        )
        assert probe.returncode != 0, f"{absent} must not be importable in the training venv"
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", train={"max_steps": 5})
    result = run_engine(run_dir, env, python=str(python))
    assert result.returncode == 0, output(run_dir)
    assert events(run_dir, "end")[0]["status"] == "finished"
    assert f"({python})" in _messages(run_dir)


def test_a_grpo_run_whose_reward_never_varies_is_said_to_learn_nothing(tmp_path, env):
    from cockpit.runs.watcher import RunWatcher

    run_dir = make_run_dir(tmp_path, "tiny-grpo-cpu", grpo={"rewards": ["constant:always_one"]})
    (run_dir / "constant.py").write_text(
        "def always_one(completions, **kwargs):\n    return [1.0] * len(completions)\n"
    )
    assert run_engine(run_dir, env).returncode == 0, output(run_dir)
    samples = events(run_dir, "samples")
    assert len(samples) == 5 and all(g["total_std"] == 0 for s in samples for g in s["groups"])
    warning = RunWatcher(run_dir).poll().no_signal
    assert warning and "No reward signal for 5 logged steps" in warning
    assert "(constant: 'always_one')" in warning
