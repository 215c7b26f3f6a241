"""What `cockpit train` and `cockpit runs` echo from a run folder: redacted, terminal-safe.

The run folders are written by hand (anyone who can write one can put anything in it).
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from rich.console import Console

from cockpit.cli.follow import follow
from cockpit.cli.train import runs_main
from cockpit.runs.runjson import write_meta
from cockpit.runs.watcher import RunWatcher
from engines.protocol import EventWriter

pytest_plugins = ["tests.runs_fixtures"]

TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz"
HOSTILE = "\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x07\x9b31m"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b")


def _ended_run(root: Path, name: str, *, profile: str, message: str, error: str) -> Path:
    """A run folder as an engine leaves it: a start, one message, a failed end."""
    run = root / name
    run.mkdir(parents=True)
    now = time.time()
    write_meta(
        run / "run.json",
        {"id": name, "profile": profile, "engine": "sft", "created": now, "started": now},
    )
    with EventWriter(run / "events.jsonl") as events:
        events.write("start", steps=3, device="cpu", backend="torch")
        events.write("message", level="warning", text=message)
        events.write("end", status="failed", error_class="ValueError", error_message=error)
    return run


def test_train_echoes_engine_messages_redacted_and_escaped(tmp_path: Path) -> None:
    run = _ended_run(
        tmp_path,
        "20261122-000000-demo",
        profile="demo",
        message=f"saving to /data/{TOKEN}/adapter {HOSTILE}",
        error="boom",
    )
    out = io.StringIO()
    summary = follow(RunWatcher(run), console=Console(file=out, width=300), poll_s=0.01)
    shown = out.getvalue()
    assert summary.status == "failed"
    assert "warning: saving to /data/hf_…(redacted)/adapter" in shown
    assert TOKEN not in shown
    assert not [c for c in RAW_CONTROLS if c in shown]
    assert "^[[2J^[]52;c;cm0gLXJmIH4=^G^[]0;pwned^G\\x9b31m" in shown


def test_runs_prints_a_hostile_profile_name_and_reason_escaped(runs_dir: Path) -> None:
    _ended_run(
        runs_dir,
        "20261122-000000-demo",
        profile=f"evil{HOSTILE}",
        message="hi",
        error=f"token {TOKEN} refused{HOSTILE}",
    )
    out = io.StringIO()
    assert runs_main(as_json=False, out=out) == 0
    table = out.getvalue()
    assert not [c for c in RAW_CONTROLS if c in table]
    assert "evil^[[2J^[]52;c;" in table and "\\x9b31m" in table
    assert "ValueError: token hf_…(redacted) refused^[[2J" in table and TOKEN not in table
    out = io.StringIO()
    assert runs_main(as_json=True, out=out) == 0
    (listed,) = json.loads(out.getvalue())
    assert listed["profile"] == f"evil{HOSTILE}"  # the data as written, JSON-escaped
    assert TOKEN not in out.getvalue()
