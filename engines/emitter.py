"""Writes protocol events from rank 0 only; imports nothing heavy.

Kept apart from the Trainer callbacks so the run can report (messages, failures) before
transformers is imported: Unsloth must be imported first, when it is used at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engines.protocol import EventWriter

Say = Callable[[str, str], None]
"""How engine code tells the user something: `say(level, text)`, i.e. `Emitter.message`."""


def is_rank_zero() -> bool:
    """True in the process that writes events (`accelerate launch`/torchrun set RANK)."""
    return os.environ.get("RANK", "0") == "0"


class Emitter:
    """Writes protocol events on rank 0 and echoes messages to stdout (the run's output.log)."""

    def __init__(self, path: str | Path | None) -> None:
        self._writer = EventWriter(path) if path is not None else None

    def emit(self, kind: str, **fields: Any) -> None:
        if self._writer is not None:
            self._writer.write(kind, **fields)

    def message(self, level: str, text: str) -> None:
        if self._writer is not None:
            print(f"[cockpit] {level}: {text}", flush=True)
        self.emit("message", level=level, text=text)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
