"""Trainer callbacks: protocol events from inside the training loop, and a clean stop.

`EventCallback` turns the Trainer's hooks into `start`, `step`, `eval` and `checkpoint`
events; `StopCallback` ends training cleanly (checkpoint first) once a stop was asked for.
Other ranks of a multi-process run keep quiet, so every event is written once.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from engines.emitter import Emitter

_REWARD_PREFIX, _REWARD_SUFFIX = "rewards/", "/mean"


def peak_memory_bytes() -> int | None:
    """Peak GPU memory allocated by this process on CUDA, else the process's peak RSS."""
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return int(torch.cuda.max_memory_allocated())
    except Exception:  # a broken CUDA stack must not stop the event
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def peak_reserved_bytes() -> int | None:
    """Peak GPU memory the caching allocator reserved on CUDA (what an OOM is about); None
    off CUDA, where `peak_mem_bytes` is the process's RSS and nothing is reserved."""
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return int(torch.cuda.max_memory_reserved())
    except Exception:  # a broken CUDA stack must not stop the event
        pass
    return None


STACK_PACKAGES = ("torch", "transformers", "trl", "peft", "bitsandbytes", "unsloth")


def gpu_facts(device: str) -> dict[str, Any]:
    """The card a CUDA run trains on (name, total bytes) and the stack's versions, for the
    `start` event: the calibration matches past runs by GPU and stack."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in STACK_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    facts: dict[str, Any] = {"versions": versions}
    if not device.startswith("cuda"):
        return facts
    try:
        import torch

        props = torch.cuda.get_device_properties(torch.device(device))
        facts |= {"gpu_name": str(props.name), "gpu_total_bytes": int(props.total_memory)}
    except Exception:  # a broken CUDA stack must not stop the event
        pass
    return facts


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters; 4-bit weights hold two values per stored element."""
    trainable = total = 0
    for param in model.parameters():
        count = param.numel() * (2 if type(param).__name__ == "Params4bit" else 1)
        total += count
        trainable += count if param.requires_grad else 0
    return trainable, total


@dataclass
class RunInfo:
    """What the `start` event says beyond the Trainer's own state."""

    engine: str
    backend: str
    device: str
    examples: int
    resumed_from: int | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class EventCallback(TrainerCallback):
    """Trainer hooks → protocol events; throughput from the trainers' `num_tokens` log."""

    def __init__(self, emitter: Emitter, info: RunInfo, samples: Any = None) -> None:
        self._emitter = emitter
        self._info = info
        self._samples = samples
        """GRPO's SampleRecorder: its last batch becomes a `samples` event after each step."""
        self._last_time = time.perf_counter()
        self._last_tokens = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        trainable, total = count_parameters(kwargs["model"]) if "model" in kwargs else (0, 0)
        # GRPO restores its token count from a checkpoint, SFT starts again from 0
        self._last_tokens = float(getattr(state, "num_input_tokens_seen", 0) or 0)
        self._last_time = time.perf_counter()
        if not state.is_world_process_zero:
            return
        self._emitter.emit(
            "start",
            steps=state.max_steps,
            epochs=getattr(state, "num_train_epochs", None) or args.num_train_epochs,
            examples=self._info.examples,
            trainable_params=trainable,
            total_params=total,
            backend=self._info.backend,
            device=self._info.device,
            engine=self._info.engine,
            world_size=args.world_size,
            resumed_from=self._info.resumed_from,
            **gpu_facts(self._info.device),
        )

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if not logs or "loss" not in logs or not state.is_world_process_zero:
            return  # eval logs and the end-of-training summary carry no "loss"
        now = time.perf_counter()
        self._emitter.emit("step", **self._step_fields(state, logs, now))
        self._last_time = now
        groups = self._samples.take() if self._samples is not None else []
        if groups:
            self._emitter.emit("samples", step=state.global_step, groups=groups)

    def _step_fields(self, state: Any, logs: dict[str, Any], now: float) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "step": state.global_step,
            "epoch": _number(logs.get("epoch", state.epoch)),
            "loss": _number(logs.get("loss")),
            "lr": _number(logs.get("learning_rate")),
            "grad_norm": _number(logs.get("grad_norm")),
            "tokens_per_s": self._tokens_per_s(logs.get("num_tokens"), now),
            "tokens": _number(logs.get("num_tokens")),
            "peak_mem_bytes": peak_memory_bytes(),
        }
        reserved = peak_reserved_bytes()
        if reserved is not None:
            fields["peak_reserved_bytes"] = reserved
        rewards = {
            key[len(_REWARD_PREFIX) : -len(_REWARD_SUFFIX)]: _number(value)
            for key, value in logs.items()
            if key.startswith(_REWARD_PREFIX) and key.endswith(_REWARD_SUFFIX)
        }
        if rewards or "reward" in logs:
            fields["rewards"] = rewards
            fields["reward"] = _number(logs.get("reward"))
            fields["completion_length"] = _number(logs.get("completions/mean_length"))
            fields["kl"] = _number(logs.get("kl"))
        return fields

    def _tokens_per_s(self, num_tokens: Any, now: float) -> float | None:
        tokens = _number(num_tokens)
        if tokens is None:
            return None
        seen = tokens - self._last_tokens if tokens >= self._last_tokens else tokens
        self._last_tokens = tokens
        elapsed = now - self._last_time
        return seen / elapsed if elapsed > 0 else None

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: Any = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero:
            return
        values = {k: _number(v) for k, v in (metrics or {}).items() if k.startswith("eval_")}
        self._emitter.emit("eval", step=state.global_step, **values)

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        self._emitter.emit("checkpoint", step=state.global_step, path=str(path.resolve()))


class StopCallback(TrainerCallback):
    """Stops training after the current step, with a checkpoint, once ``requested()`` says so.

    In a multi-process run the ranks agree first (any rank asked → all stop at the same
    step), or the ranks that went on would wait forever in their next collective.
    """

    def __init__(self, requested: Callable[[], bool]) -> None:
        self._requested = requested
        self.stopped_at: int | None = None

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if _agreed(self._requested(), args):
            control.should_training_stop = True
            control.should_save = True
            self.stopped_at = state.global_step


def _agreed(flag: bool, args: Any) -> bool:
    """The flag OR-ed over all ranks (just the flag in a single process)."""
    if getattr(args, "world_size", 1) <= 1:
        return flag
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=args.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())
