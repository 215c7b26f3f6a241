"""Event schema + writer/reader — stdlib only; the ONE module cockpit imports from engines.

A run directory holds:
    profile.toml   frozen copy of the profile (data path made absolute)
    run.json       written by cockpit's supervisor: id, engine, command, pid, host, ...
    events.jsonl   one JSON object per line, appended and flushed by the engine (rank 0)
    output.log     the engine's stdout + stderr
    checkpoints/   trainer checkpoints (checkpoint-<step>/); adapter/ the final adapter

Every event has ``t`` (unix time) and ``kind``. Kinds and their fields:
    start       steps (total optimizer steps), epochs, examples, trainable_params,
                total_params, backend ("peft" | "unsloth" | "full"), device ("cpu" |
                "cuda:0" ...), engine ("sft" | "grpo"), world_size, resumed_from (step or None)
    step        step, epoch, loss, lr, grad_norm, tokens_per_s, peak_mem_bytes;
                GRPO adds rewards {name: mean}, reward (mean total), completion_length, kl
    eval        step, eval_loss (and any other eval_* metric)
    checkpoint  step, path
    message     level ("info" | "warning" | "error"), text
    end         status ("finished" | "failed" | "stopped"), steps_done, error_class,
                error_message, adapter_path
Readers ignore kinds and fields they do not know, so the protocol can grow.

Also here: the numbers both sides must agree on. The tiny demo model is built by the
engines from ``TINY_LLAMA_CONFIG`` and estimated by ``cockpit.vram`` from the same dict.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

PROFILE_FILE = "profile.toml"
RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
OUTPUT_FILE = "output.log"
CHECKPOINTS_DIR = "checkpoints"
ADAPTER_DIR = "adapter"

EVENT_KINDS = ("start", "step", "eval", "checkpoint", "message", "end")
END_STATUSES = ("finished", "failed", "stopped")

TINY_LLAMA_ID = "cockpit:tiny-llama"
"""The `name_or_path` that names the tiny demo model in a profile."""

TINY_LLAMA_CONFIG: dict[str, object] = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "intermediate_size": 128,
    "vocab_size": 1024,
    "max_position_embeddings": 512,
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-5,
}
"""A 2-layer Llama (grouped-query attention, ~0.2 M parameters) that trains on CPU in seconds."""


def make_event(kind: str, **fields: Any) -> dict[str, Any]:
    """An event dict with its time stamp; values must be JSON-serialisable."""
    return {"t": time.time(), "kind": kind, **fields}


class EventWriter:
    """Appends events to ``events.jsonl``, one line each, flushed as it is written.

    Lines are written whole with a single ``write`` on a file opened in append mode, so a
    reader never sees half an event from a live writer (only from a killed one, which
    readers skip).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = make_event(kind, **fields)
        self._file.write(json.dumps(event, default=str) + "\n")
        self._file.flush()
        return event

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class EventTail:
    """Incremental reader of an ``events.jsonl`` that may still be growing.

    ``read()`` returns the complete new events since the last call; a partial last line
    stays for the next call; malformed lines (a killed writer, a disk error) are counted in
    ``skipped`` and otherwise ignored.
    """

    path: str | os.PathLike[str]
    offset: int = 0
    skipped: int = 0
    _pending: bytes = field(default=b"", repr=False)

    def read(self, max_bytes: int | None = 8 * 1024 * 1024) -> list[dict[str, Any]]:
        """New complete events; at most `max_bytes` read per call (None: to the end)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read(-1 if max_bytes is None else max_bytes)
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()  # b"" when the chunk ended with a newline
        events = []
        for line in lines:
            event = _parse(line)
            if event is None:
                self.skipped += bool(line.strip())
            else:
                events.append(event)
        return events


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("kind"), str):
        return None
    return event


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete event of a run so far."""
    return EventTail(path).read(max_bytes=None)
