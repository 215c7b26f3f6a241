"""Finished runs written by hand for the comparison tests: a frozen profile (the shipped
tiny demo with some keys changed) and the events a training would have written."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import tomli_w

from engines.protocol import EVENTS_FILE, PROFILE_FILE, RUN_FILE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TINY = Path(__file__).resolve().parents[1] / "profiles" / "tiny-demo-cpu.toml"
T0 = 1_765_000_000.0


def write_run(
    root: Path, run_id: str, *, lr: float, steps: int = 40, tokens: bool = True,
    evals: bool = False, resumed_at: int | None = None, **train: Any,
) -> Path:  # fmt: skip
    """A finished run whose loss falls faster with a larger `lr` (deterministic)."""
    raw = tomllib.loads(TINY.read_text(encoding="utf-8"))
    raw["train"].update(learning_rate=lr, max_steps=steps, **train)
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    (run_dir / PROFILE_FILE).write_text(tomli_w.dumps(raw), encoding="utf-8")
    events = [{"kind": "start", "t": T0, "steps": steps, "engine": "sft", "backend": "peft",
               "device": "cpu", "world_size": 1}]  # fmt: skip
    done = list(range(1, steps + 1))
    if resumed_at is not None:  # steps after the checkpoint trained twice
        done = [*range(1, steps // 2 + 1), *range(resumed_at + 1, steps + 1)]
    for i, step in enumerate(done):
        loss = 2.0 + 5.0 * math.exp(-lr * 300 * step / steps)
        event = {"kind": "step", "t": T0 + i, "step": step, "loss": round(loss, 4)}
        if tokens:
            event["tokens"] = 2048.0 * step
        events.append(event)
        if evals and step % 10 == 0:
            events.append({"kind": "eval", "t": T0 + i, "step": step, "eval_loss": loss + 0.3})
    events.append({"kind": "end", "t": T0 + len(done), "status": "finished",
                   "steps_done": steps, "adapter_path": None})  # fmt: skip
    text = "".join(json.dumps(e) + "\n" for e in events)
    (run_dir / EVENTS_FILE).write_text(text, encoding="utf-8")
    meta = {"id": run_id, "profile": raw["name"], "engine": "sft", "created": T0, "started": T0,
            "ended": T0 + len(done), "exit_code": 0}  # fmt: skip
    (run_dir / RUN_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return run_dir
