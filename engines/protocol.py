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
                "cuda:0" ...), engine ("sft" | "grpo"), world_size, resumed_from (step or None),
                versions {package: version}; on CUDA gpu_name, gpu_total_bytes
    step        step, epoch, loss, lr, grad_norm, tokens_per_s, tokens (trained so far: TRL's
                num_tokens; absent from runs of older cockpits), peak_mem_bytes (CUDA: torch's
                max_memory_allocated; elsewhere the peak RSS); on CUDA peak_reserved_bytes
                (max_memory_reserved);
                GRPO adds rewards {name: mean}, reward (mean total), completion_length, kl
    eval        step, eval_loss (and any other eval_* metric)
    samples     (GRPO, after each step) step, groups: [{prompt, size, reward_std {name: std},
                total_std, completions: [{text, rewards {name: score}, total, advantage}]}]
                (engines/samples.py: the first groups of the last batch, texts cut)
    checkpoint  step, path
    message     level ("info" | "warning" | "error"), text
    end         status ("finished" | "failed" | "stopped"), steps_done, error_class,
                error_message, adapter_path
Readers ignore kinds and fields they do not know, so the protocol can grow.

Also here: the numbers both sides must agree on. The tiny demo model is built by the
engines from ``TINY_LLAMA_CONFIG`` and estimated by ``cockpit.vram`` from the same dict.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

PROFILE_FILE = "profile.toml"
RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
OUTPUT_FILE = "output.log"
CHECKPOINTS_DIR = "checkpoints"
ADAPTER_DIR = "adapter"

MAX_EVENT_BYTES = 1024 * 1024
"""A longer line is not an event an engine wrote: readers skip it without holding it."""
MAX_JSON_DEPTH = 64
"""Deeper nesting is not something cockpit writes: readers refuse it (and its recursion)."""

EVENT_KINDS = ("start", "step", "eval", "checkpoint", "message", "end", "samples")
END_STATUSES = ("finished", "failed", "stopped")

# -- chat: `python -m engines chat RUN_DIR [--checkpoint N]` (engines/chat.py) ----------------
# One JSON object per line each way. The client writes requests on the engine's stdin:
#     {"op": "generate", "id": ID, "messages": [{"role", "content"}, ...], "adapter": true,
#      "max_new_tokens": N, "temperature": T (0 = greedy), "top_p": P, "seed": S (optional)}
#     {"op": "stop", "id": ID}     end that generation now (its `end` says stopped: true)
#     {"op": "eval_rows", "id": ID, "n": N}   up to N rows to ask, with reference answers
#     {"op": "quit"}               (or EOF) the engine exits
# and reads replies on its stdout (nothing else is written there; logs go to stderr):
#     {"kind": "ready", "model", "weights" (the adapter or checkpoint folder), "device",
#      "template" ("chat" | "plain"), "can_compare" (the base is one switch away), "load_s",
#      "max_positions"}
#     {"kind": "token", "id", "text"}      text as it is generated (whole words at a time)
#     {"kind": "end", "id", "text" (the whole answer), "tokens", "seconds", "tokens_per_s",
#      "first_token_s", "stopped", "adapter"}
#     {"kind": "rows", "id", "split" ("eval": held out as training held it out; "train": no
#      eval split, so rows it trained on), "source", "rows": [{"messages", "reference"}]}
#     {"kind": "error", "id" (None while loading), "message"}
# Requests are answered one at a time, in order; the model stays loaded between them.
CHAT_OPS = ("generate", "stop", "eval_rows", "quit")
CHAT_KINDS = ("ready", "token", "end", "rows", "error")

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


class NotRegularFileError(OSError):
    """A FIFO, device or socket where a file was expected (reading it could block forever)."""


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """`path` opened for binary reading; see `open_regular_fd`."""
    return os.fdopen(open_regular_fd(path), "rb")


def open_regular_fd(path: str | os.PathLike[str]) -> int:
    """A read-only descriptor of `path`; raises OSError, and refuses anything but a regular
    file (directory, FIFO, device, socket) with the reason as `strerror`. Never blocks: a FIFO
    without a writer would hang a plain open, so the open is non-blocking, checked again."""
    kind = _not_regular(os.stat(path).st_mode)  # refuse a device before opening it at all
    if kind is None:
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        kind = _not_regular(os.fstat(fd).st_mode)  # swapped in since the stat?
        if kind is None:
            return fd
        os.close(fd)
    if kind.startswith("a directory"):
        raise IsADirectoryError(errno.EISDIR, kind, os.fspath(path))
    raise NotRegularFileError(errno.EINVAL, kind, os.fspath(path))


def _not_regular(mode: int) -> str | None:
    """None for a regular file, else what it is: "a FIFO (named pipe), not a regular file"."""
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return f"{name}, not a regular file"
    return "not a regular file"


def loads_strict(text: str) -> Any:
    """JSON as cockpit and its engines write it: finite numbers, nesting at most
    `MAX_JSON_DEPTH`; anything else raises ValueError (never RecursionError).

    The checks cost nothing on ordinary lines: only text with many brackets or a number
    that could overflow a float (1e999, 309 digits) is walked after parsing."""
    try:
        value = _DECODER.decode(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    deep = text.count("[") + text.count("{") > MAX_JSON_DEPTH
    big = deep or _EXPONENT.search(text) or _DIGITS.search(text)
    if big and (problem := _problem(value)):
        raise ValueError(problem)
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_EXPONENT = re.compile(r"[eE][+]?[0-9]{3}")
_DIGITS = re.compile(r"(?<![0-9])[0-9]{309}")
"""What a float literal needs to overflow to infinity (two searches: faster than one)."""


def _problem(value: Any) -> str | None:
    """Containers nested deeper than MAX_JSON_DEPTH, or an infinite number (walked without
    recursion); None when there is neither."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "a number too large for a float"
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            return f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return None


@dataclass
class EventTail:
    """Incremental reader of an ``events.jsonl`` that may still be growing.

    ``read()`` returns the complete new events since the last call; a partial last line
    stays for the next call; malformed lines (a killed writer, a disk error, a line over
    ``MAX_EVENT_BYTES``) are counted in ``skipped`` and otherwise ignored. A missing file has
    no events yet; an unreadable one (permissions, a directory, a FIFO) raises OSError.
    """

    path: str | os.PathLike[str]
    offset: int = 0
    skipped: int = 0
    _pending: bytes = field(default=b"", repr=False)
    _overlong: bool = field(default=False, repr=False)
    """Inside a line already skipped as too long: drop bytes up to its end."""

    def read(self, max_bytes: int | None = 8 * 1024 * 1024) -> list[dict[str, Any]]:
        """New complete events; at most `max_bytes` read per call (None: to the end)."""
        try:
            with open_regular(self.path) as f:
                f.seek(self.offset)
                chunk = f.read(-1 if max_bytes is None else max_bytes)
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        lines = (chunk if self._overlong else self._pending + chunk).split(b"\n")
        pending = lines.pop()  # b"" when the chunk ended with a newline
        if self._overlong:
            self._overlong = not lines
            pending = pending if lines else b""
            lines = lines[1:]  # the end of the skipped line
        if len(pending) > MAX_EVENT_BYTES:
            pending, self._overlong = b"", True
            self.skipped += 1
        self._pending = pending
        events = []
        for line in lines:
            event = _parse(line)
            if event is None:
                self.skipped += bool(line.strip())
            else:
                events.append(event)
        return events


def _parse(line: bytes) -> dict[str, Any] | None:
    if len(line) > MAX_EVENT_BYTES:
        return None
    try:
        event = loads_strict(line.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        return None
    if not isinstance(event, dict) or not isinstance(event.get("kind"), str):
        return None
    return event


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete event of a run so far."""
    return EventTail(path).read(max_bytes=None)
