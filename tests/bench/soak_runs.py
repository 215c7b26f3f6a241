"""Run folders for the Runs place soak benchmark: a live run written fast, a huge finished one.

`python -m tests.bench.soak_runs live RUN_DIR STEPS RATE` plays an engine: it writes the
run's profile.toml and run.json (with its own pid, so cockpit sees the run going), a start
event, then STEPS step events at about RATE per second, each with a line of output.log the
way TRL prints its metrics, then an end event. `write_finished` builds a finished run whose
events.jsonl is as large as asked (a long run that logged every step).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "tiny-demo-cpu.toml"


def _meta(run_id: str, pid: int, t0: float, finished: bool) -> dict:
    meta = {
        "version": 1, "id": run_id, "profile": "tiny-demo-cpu", "engine": "sft",
        "created": t0, "started": t0, "pid": pid, "pgid": pid, "host": socket.gethostname(),
        "launches": 1, "starts_before": 0, "command_text": "python -m engines run RUN_DIR",
    }  # fmt: skip
    if finished:
        meta |= {"ended": t0 + 1, "exit_code": 0, "signal": None}
    return meta


def _step(step: int, total: int, t: float) -> str:
    event = {
        "t": t, "kind": "step", "step": step, "epoch": round(step / total, 5),
        "loss": round(2.0 / (1 + step / 500) + 0.01 * (step % 7), 5),
        "lr": 2e-4 * (1 - step / total), "grad_norm": 0.5 + (step % 11) / 20,
        "tokens_per_s": 1800.0 + step % 50, "peak_mem_bytes": 3 << 30,
    }  # fmt: skip
    return json.dumps(event)


def _start(total: int, t: float) -> str:
    event = {
        "t": t, "kind": "start", "steps": total, "epochs": 1, "examples": total * 8,
        "trainable_params": 24_313_856, "total_params": 3_237_063_680, "backend": "peft",
        "device": "cuda:0", "engine": "sft", "world_size": 1, "resumed_from": None,
    }  # fmt: skip
    return json.dumps(event)


def _prepare(run_dir: Path, pid: int, t0: float, finished: bool) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "profile.toml").write_text(PROFILE.read_text())
    meta = _meta(run_dir.name, pid, t0, finished)
    (run_dir / "run.json").write_text(json.dumps(meta, indent=2))


def write_finished(run_dir: Path, megabytes: float) -> int:
    """A finished run whose events.jsonl holds about `megabytes` MB; returns its steps."""
    t0 = time.time() - 86_400
    _prepare(run_dir, 999_999, t0, finished=True)
    per_line = len(_step(123_456, 10**6, t0)) + 1
    total = int(megabytes * 1_000_000 / per_line)
    with open(run_dir / "events.jsonl", "w") as out:
        out.write(_start(total, t0) + "\n")
        for first in range(1, total + 1, 10_000):
            last = min(first + 10_000, total + 1)
            out.write("".join(_step(s, total, t0 + s * 0.1) + "\n" for s in range(first, last)))
        end = {"t": t0 + total * 0.1 + 1, "kind": "end", "status": "finished",
               "steps_done": total, "adapter_path": str(run_dir / "adapter")}  # fmt: skip
        out.write(json.dumps(end) + "\n")
    (run_dir / "output.log").write_text(f"trained {total} steps\n")
    return total


def play_live(run_dir: Path, steps: int, rate: float) -> None:
    """Write a live run at `rate` steps per second (paced against the clock, not by sleeps
    of a fixed length, so a slow write does not slow the run)."""
    t0 = time.time()
    _prepare(run_dir, os.getpid(), t0, finished=False)
    with (
        open(run_dir / "events.jsonl", "a") as events,
        open(run_dir / "output.log", "a") as output,
    ):
        events.write(_start(steps, t0) + "\n")
        events.flush()
        for step in range(1, steps + 1):
            time.sleep(max(0.0, t0 + step / rate - time.time()))  # behind: no wait
            events.write(_step(step, steps, time.time()) + "\n")
            events.flush()
            output.write(f"{{'loss': {2.0 / (1 + step / 500):.4f}, 'step': {step}}}\n")
            output.flush()
        end = {"t": time.time(), "kind": "end", "status": "finished", "steps_done": steps}
        events.write(json.dumps(end) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "live":
        play_live(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit("usage: python -m tests.bench.soak_runs live RUN_DIR STEPS RATE")
