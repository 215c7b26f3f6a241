"""Runs and host states for the fleet tests: a run that is really alive on this machine,
and the fixed host states the fleet view's snapshots and screenshot show."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engines.protocol import EVENTS_FILE, RUN_FILE
from tests.compare_fixtures import T0


@contextmanager
def live_run(
    root: Path, run_id: str, *, step: int, total: int, loss: float, profile: str = "qlora-3b"
) -> Iterator[Path]:
    """A run "running" on this machine while the block lasts: its pid is a stand-in process
    whose command line names the run (as an engine's does), its events at `step`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()", run_id], stdin=subprocess.PIPE
    )
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    events = [{"kind": "start", "t": T0, "steps": total, "engine": "sft"}]
    events += [{"kind": "step", "t": T0 + s, "step": s, "loss": loss} for s in range(1, step + 1)]
    (run_dir / EVENTS_FILE).write_text("".join(json.dumps(e) + "\n" for e in events))
    meta = {"id": run_id, "profile": profile, "engine": "sft", "created": T0, "started": T0,
            "pid": holder.pid, "host": socket.gethostname()}  # fmt: skip
    (run_dir / RUN_FILE).write_text(json.dumps(meta))
    try:
        yield run_dir
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
