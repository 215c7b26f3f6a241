"""A run killed with SIGKILL after its first checkpoint resumes to the end, as a user does it.

The shipped demo profile (save_steps and save_total_limit as shipped, more steps so the
kill lands mid-run) is started with `cockpit train --detach`; once its first checkpoint is
written the engine gets SIGKILL (what the OOM killer sends), `cockpit runs` says crashed,
and `cockpit train --resume RUN_ID` — what the Runs place's `r` runs — trains on from the
newest checkpoint to the last step. Only the newest `save_total_limit` checkpoints remain,
and the size the estimate shows for a checkpoint is the size written.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import tomli_w
import tomllib

from cockpit.vram.checkpoint import checkpoint_size
from cockpit.vram.estimate import estimate
from engines.profile_schema import profile_from_dict
from engines.protocol import CHECKPOINTS_DIR, RUN_FILE
from tests.engines.helpers import PROFILES, RUN_TIMEOUT, engine_env, events, output
from tests.runs_helpers import cockpit, kill_runs, wait_for

STEPS = 40
"""The demo's 30 steps and 10 more: after its first checkpoint (step 10) it trains on for
30 steps (a second or more), so the kill comes mid-run even on a busy machine."""


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The shipped tiny demo as a user's profile file (STEPS steps), runs under tmp_path."""
    for key, value in engine_env(tmp_path / "cache").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("COCKPIT_ENGINE_MODULE", raising=False)
    raw = tomllib.loads((PROFILES / "tiny-demo-cpu.toml").read_text(encoding="utf-8"))
    raw["name"] = "crash-demo"
    raw["train"]["max_steps"] = STEPS
    raw["data"]["path"] = str((PROFILES / raw["data"]["path"]).resolve())
    path = tmp_path / "crash-demo.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    yield {"path": path, "raw": raw}
    kill_runs(tmp_path / "runs")


def _the_run() -> dict:
    listed = cockpit("runs", "--json")
    (run,) = json.loads(listed.stdout)
    return run


def _checkpoint_steps(run_dir: Path) -> list[int]:
    found = (run_dir / CHECKPOINTS_DIR).glob("checkpoint-*")
    return sorted(int(p.name.rsplit("-", 1)[1]) for p in found)


def test_a_run_killed_after_its_first_checkpoint_resumes_to_the_end(shipped):
    train = shipped["raw"]["train"]
    assert train["save_steps"] > 0 and train["save_total_limit"] > 0, "shipped: crash-safe"
    started = cockpit("train", str(shipped["path"]), "--detach", timeout=RUN_TIMEOUT)
    assert started.returncode == 0, started.stdout + started.stderr
    run_dir = Path(_the_run()["run_dir"])

    wait_for(lambda: events(run_dir, "checkpoint"), RUN_TIMEOUT, "the first checkpoint")
    pid = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))["pid"]
    os.kill(pid, signal.SIGKILL)
    crashed = wait_for(lambda: (r := _the_run())["status"] == "crashed" and r, 60, "crashed")
    assert crashed["signal"] == "SIGKILL", crashed
    killed_at = events(run_dir, "step")[-1]["step"]
    assert killed_at < STEPS, "the run ended before the kill: nothing was tested"
    newest = _checkpoint_steps(run_dir)[-1]

    resumed = cockpit("train", "--resume", crashed["id"], timeout=RUN_TIMEOUT)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr + output(run_dir)
    run = _the_run()
    assert (run["status"], run["step"], run["total_steps"]) == ("finished", STEPS, STEPS)
    assert [s["resumed_from"] for s in events(run_dir, "start")] == [None, newest]
    steps = [s["step"] for s in events(run_dir, "step")]
    assert steps[-(STEPS - newest) :] == list(range(newest + 1, STEPS + 1))  # goes on
    assert steps[:killed_at] == list(range(1, killed_at + 1))  # not a restart from 1
    assert len(steps) == killed_at + STEPS - newest

    kept = _checkpoint_steps(run_dir)
    assert kept == [STEPS - train["save_steps"], STEPS]  # save_total_limit = 2
    _the_size_shown_is_the_size_written(run_dir / CHECKPOINTS_DIR / f"checkpoint-{STEPS}")


def _the_size_shown_is_the_size_written(checkpoint: Path) -> None:
    """The Profiles form's and `cockpit estimate`'s figure, against the files on disk."""
    run_profile = tomllib.loads((checkpoint.parents[1] / "profile.toml").read_text("utf-8"))
    shown = checkpoint_size(estimate(profile_from_dict(run_profile), suggest=False))
    written = sum(
        (checkpoint / name).stat().st_size for name in ("adapter_model.safetensors", "optimizer.pt")
    )
    assert 0.75 < written / shown.total_bytes < 1.33, (written, shown)
