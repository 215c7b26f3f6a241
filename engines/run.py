"""`python -m engines run RUN_DIR [--resume]`: one training run, from the profile to `end`.

Every way out writes an `end` event (rank 0): "finished" after an adapter was saved;
"stopped" after SIGTERM or SIGINT (SIGBREAK on Windows): the current step ends and a
checkpoint is written; "failed" with the exception's class and message for anything else,
including a run that trained no step at all, which must never look finished. Exit codes:
0, 0 and 1. A stop before the first step (while the model loads) ends "stopped" as soon as
the loading in progress returns.

`--resume` starts from the newest checkpoint that loads (`engines.resume`), and a run with
nothing left to train ends "finished" at once ("already finished"), never a step past the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.emitter import Emitter, is_rank_zero
from engines.profile_schema import Profile, read_profile
from engines.protocol import ADAPTER_DIR, EVENTS_FILE, PROFILE_FILE, RUN_FILE
from engines.resume import (
    STATE_FILE,
    checkpoints,
    finished_step,
    restore_adapter,
    resumable_checkpoint,
    saved_model_problem,
)

_CHECKPOINT = re.compile(r"checkpoint-(\d+)$")


class EngineError(Exception):
    """A run that cannot go on, with a message for the user."""


_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGBREAK") if hasattr(signal, name)
)
"""SIGBREAK: what CTRL_BREAK_EVENT raises in a Windows process group."""


class StopRequest:
    """Set by the first stop signal; a second one gets the default action (terminate)."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def install(self) -> None:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        # no print here: the signal may land while the main thread is writing to stdout,
        # and a buffered write re-entered from a handler raises RuntimeError
        self.signal = signum
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)

    def __call__(self) -> bool:
        return self.signal is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal is not None else "stop"


@dataclass
class _Progress:
    trainer: Any = None
    resumed_from: int | None = None

    @property
    def step(self) -> int:
        return int(self.trainer.state.global_step) if self.trainer is not None else 0


def run(run_dir: str | Path, resume: bool = False) -> int:
    """Train the run in ``run_dir``; the exit code (0 finished or stopped, 1 failed)."""
    _never_fail_on_output()
    run_dir = Path(run_dir)
    try:
        emitter = Emitter(run_dir / EVENTS_FILE if is_rank_zero() else None)
    except OSError as exc:  # no run dir, or not writable: nowhere to report but stderr
        print(f"engines run: cannot write events in {run_dir}: {exc}", file=sys.stderr)
        return 1
    stop = StopRequest()
    stop.install()
    progress = _Progress()
    try:
        code = _train(run_dir, resume, emitter, stop, progress)
    except KeyboardInterrupt:  # SIGINT under a handler some library put back: still a stop
        _end(emitter, "stopped", progress.step)
        code = 0
    except Exception as exc:
        traceback.print_exc()
        _end(
            emitter, "failed", progress.step, error_class=type(exc).__name__, error_message=str(exc)
        )
        code = 1
    emitter.close()
    _exit_now_if_distributed(code)
    return code


def _never_fail_on_output() -> None:
    """Write output.log in UTF-8 and never die of an unencodable character (the seeds'
    UnicodeEncodeError from a gbk Windows console)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        if stream.isatty():
            reconfigure(errors="backslashreplace")
        else:
            reconfigure(encoding="utf-8", errors="backslashreplace")


def _exit_now_if_distributed(code: int) -> None:
    """Leave a multi-process run without interpreter teardown. Tearing down gloo either
    aborts ("terminate called without an active exception") or, through
    destroy_process_group, can deadlock on the GIL; either way the launcher reports a
    failure for a run that ended cleanly. Everything is written and flushed by now."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _train(
    run_dir: Path, resume: bool, emitter: Emitter, stop: StopRequest, progress: _Progress
) -> int:
    settings, origin = _settings(run_dir)
    checkpoint = resumable_checkpoint(run_dir, emitter.message) if resume else None
    if resume:  # before any loading: a finished run has nothing to load for
        done = finished_step(run_dir, checkpoint, settings.train.max_steps)
        if done is not None:
            return _end_already_finished(run_dir, checkpoint, done, emitter)
    progress.resumed_from = _step_of(checkpoint)
    job = _job(run_dir, settings, origin, emitter.message)
    if _stop_now(stop):
        return _end_stopped(job, progress.resumed_from or 0, emitter, stop.name)
    trainer, examples = _build(job)
    progress.trainer = trainer
    stopper = _add_callbacks(trainer, job, emitter, stop, examples, progress.resumed_from)
    if _stop_now(stop):  # stopped while the model and data loaded
        return _end_stopped(job, progress.resumed_from or 0, emitter, stop.name)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    state = trainer.state
    if stopper.stopped_at is not None and state.global_step < state.max_steps:
        return _end_stopped(job, state.global_step, emitter, stop.name)
    return _end_finished(job, trainer, emitter, progress.resumed_from)


def _job(run_dir: Path, settings: Profile, origin: Path | None, say: Any) -> Any:
    """The run's Job: this machine's device, the backend and the precision, each said."""
    from engines.job import Job
    from engines.modeling import choose_precision, detect_runtime
    from engines.unsloth_backend import choose_backend

    runtime = detect_runtime(say)  # says when it picks Apple's GPU (mps)
    say("info", _environment(runtime.device))
    backend = choose_backend(settings, runtime, say)  # imports Unsloth before transformers
    _quiet_progress_bars()
    precision = choose_precision(settings.model.dtype, runtime, say)
    folders = tuple(d for d in (origin, run_dir) if d is not None)
    return Job(settings, run_dir, runtime, backend, precision, say, folders)


def _stop_now(stop: StopRequest) -> bool:
    """A stop asked for before training: honoured at once by a lone process (several stop
    together after their first step: one rank leaving now would hang the others in their
    first collective)."""
    return stop() and int(os.environ.get("WORLD_SIZE", "1")) <= 1


def _settings(run_dir: Path) -> tuple[Profile, Path | None]:
    """The run's settings, with the original profile's folder when run.json names it."""
    profile = run_dir / PROFILE_FILE
    if not profile.is_file():
        raise EngineError(f"no {PROFILE_FILE} in {run_dir}")
    settings = read_profile(profile)
    try:
        meta = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
        return settings, Path(meta["profile_source"]).parent
    except (OSError, ValueError, KeyError, TypeError):
        return settings, None


def _quiet_progress_bars() -> None:
    """No tqdm bars for loading and dataset maps in output.log (downloads keep theirs)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def _environment(device: str) -> str:
    """Interpreter and stack versions, read from metadata (transformers is not imported yet)."""
    from importlib.metadata import PackageNotFoundError, version

    def _version(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    stack = ", ".join(f"{n} {_version(n)}" for n in ("torch", "transformers", "trl", "peft"))
    python = ".".join(map(str, sys.version_info[:3]))
    return f"python {python} ({sys.executable}); {stack}; device {device}"


def _build(job: Any) -> tuple[Any, int]:
    if job.settings.engine == "grpo":
        from engines import grpo

        return grpo.build_trainer(job)
    if job.settings.engine != "sft":
        raise EngineError(f'unknown engine {job.settings.engine!r}: use "sft" or "grpo"')
    from engines import sft

    return sft.build_trainer(job)


def _add_callbacks(
    trainer: Any, job: Any, emitter: Emitter, stop: StopRequest, examples: int, resumed: int | None
) -> Any:
    from engines.callbacks import EventCallback, RunInfo, StopCallback

    info = RunInfo(job.settings.engine, job.backend, job.runtime.device, examples, resumed)
    samples = getattr(trainer, "cockpit_samples", None)  # GRPO's (engines/samples.py)
    trainer.add_callback(EventCallback(emitter, info, samples))
    stopper = StopCallback(stop)
    trainer.add_callback(stopper)
    return stopper


def newest_checkpoint(run_dir: Path) -> Path | None:
    """RUN_DIR/checkpoints/checkpoint-N with the highest N that holds a trainer state."""
    found = (path for _, path in checkpoints(run_dir) if (path / STATE_FILE).is_file())
    return next(found, None)


def _step_of(checkpoint: Path | None) -> int | None:
    match = _CHECKPOINT.search(checkpoint.name) if checkpoint else None
    return int(match.group(1)) if match else None


def _end(emitter: Emitter, status: str, steps_done: int, **fields: Any) -> None:
    """The `end` event, with every protocol field present (None where it does not apply)."""
    values: dict[str, Any] = {"error_class": None, "error_message": None, "adapter_path": None}
    values.update(fields)
    emitter.emit("end", status=status, steps_done=steps_done, **values)


def _end_stopped(job: Any, step: int, emitter: Emitter, reason: str) -> int:
    checkpoint = newest_checkpoint(job.run_dir)
    then = f"checkpoint in {checkpoint}; resume with --resume" if checkpoint else "no checkpoint"
    emitter.message("info", f"{reason}: stopped at step {step}, {then}")
    _end(emitter, "stopped", step, checkpoint_path=str(checkpoint) if checkpoint else None)
    return 0


def _end_already_finished(
    run_dir: Path, checkpoint: Path | None, step: int, emitter: Emitter
) -> int:
    """A resume with nothing left to train: finished, without a step more."""
    adapter = run_dir / ADAPTER_DIR
    restored = ""
    if checkpoint is not None and saved_model_problem(adapter) is not None and is_rank_zero():
        restore_adapter(run_dir, checkpoint)
        restored = f"; the adapter restored from {checkpoint.name} (its final save was cut short)"
    emitter.message("info", f"already finished at step {step}: nothing left to train{restored}")
    _end(emitter, "finished", step, adapter_path=str(adapter.resolve()))
    return 0


def _end_finished(job: Any, trainer: Any, emitter: Emitter, resumed_from: int | None) -> int:
    state = trainer.state
    if state.global_step <= (resumed_from or 0):
        raise EngineError(
            f"trained 0 steps (step {state.global_step} of {state.max_steps}): "
            "the data may be too small for one batch, or the run was already done"
        )
    adapter = job.run_dir / ADAPTER_DIR
    trainer.save_model(str(adapter))
    _end(
        emitter,
        "finished",
        state.global_step,
        adapter_path=str(adapter.resolve()),
        **_throughput(state),
    )
    return 0


def _throughput(state: Any) -> dict[str, Any]:
    """Tokens trained and the training loop's seconds, from the trainer's log history."""
    history = list(getattr(state, "log_history", []) or [])
    tokens = next((h["num_tokens"] for h in reversed(history) if "num_tokens" in h), None)
    runtime = next((h["train_runtime"] for h in reversed(history) if "train_runtime" in h), None)
    return {"tokens": tokens, "train_seconds": runtime}
