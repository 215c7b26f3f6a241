"""The whole loop with the real engine on CPU: train the demo, `cockpit runs` says finished."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engines.protocol import EventTail
from tests.runs_helpers import cockpit

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

pytest_plugins = ["tests.runs_fixtures"]


def test_the_demo_profile_trains_to_the_end_with_the_real_engine(runs_dir, monkeypatch):
    monkeypatch.delenv("COCKPIT_ENGINE_MODULE", raising=False)
    done = cockpit("train", "profiles/tiny-demo-cpu.toml", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = cockpit("runs", "--json")
    (run,) = json.loads(listed.stdout)
    assert run["status"] == "finished" and run["step"] == run["total_steps"] > 0
    assert Path(run["adapter_path"]).is_dir()
    losses = [e["loss"] for e in EventTail(Path(run["run_dir"]) / "events.jsonl").read()
              if e["kind"] == "step" and e.get("loss") is not None]  # fmt: skip
    assert losses[-1] < losses[0]
    assert "-m engines run" in run["extra"]["command_text"]
