"""The Runs place with a Slurm profile, against a real single-node Slurm (tests/slurm.py):
the batch script is shown (and copied) before submission; the run waits in the queue with
Slurm's reason, then runs on the node, its steps on screen, and finishes.

The engine is the fake one (tests/fake_engine.py): what is under test is cockpit's side of
the queue; tests/e2e/test_slurm_flow.py trains the real tiny model through Slurm."""

from __future__ import annotations

import re
import time

import pytest

from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, wait_for
from tests.ui.test_runs import DEMO, Recorder, _highlight_profile, _user_profile, head, runs_env

pytestmark = pytest.mark.slow

__all__ = ["runs_env"]


def _slurm_profile() -> str:
    text = DEMO.read_text().replace('"data/demo.jsonl"', f'"{DEMO.parent / "data" / "demo.jsonl"}"')
    return text.replace('name = "tiny-demo-cpu"', 'name = "on-slurm"') + (
        '\n[launch]\nwhere = "slurm"\ngpus_per_node = 0\n'
    )


async def test_the_script_is_shown_then_the_job_queues_runs_and_finishes(
    runs_env, monkeypatch, slurm_cluster
):
    monkeypatch.setenv("FAKE_ENGINE", "steps=12,gate=6")
    monkeypatch.setenv("COCKPIT_DATA_PREFLIGHT", "0")
    _user_profile("on-slurm", _slurm_profile())
    blocker = slurm_cluster.run(
        "sbatch", "--parsable", "--exclusive", "--wrap", "sleep 300", "-o", "/dev/null"
    ).stdout.strip()
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 40)) as pilot:
        seen = Recorder(app)
        await wait_for(pilot, lambda: "ready to start" in screen_text(app), timeout=30)
        await _highlight_profile(pilot, "on-slurm")
        await wait_for(pilot, lambda: "#SBATCH --nodes=1" in screen_text(app), timeout=30)
        text = screen_text(app)
        assert "Will run" in text and "sbatch --parsable" in text
        assert "copy the batch script" in text
        assert "srun " in app.screen.check.script  # the whole script, scrolled in the pane
        copied: list[str] = []
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        await pilot.press("c")
        assert copied and copied[0].startswith("#!/bin/bash") and "#SBATCH" in copied[0]
        await pilot.press("s")
        await wait_for(pilot, lambda: "queued" in head(app), timeout=30)
        await wait_for(pilot, lambda: "PENDING (Resources)" in screen_text(app), timeout=30)
        assert re.search(r"Slurm job \d+: PENDING \(Resources\)", screen_text(app))
        slurm_cluster.run("scancel", blocker)
        await wait_for(pilot, lambda: "step 6/12" in screen_text(app), timeout=90)
        assert "running" in head(app)  # its steps say so before Slurm's state is asked again
        await wait_for(pilot, lambda: f"RUNNING on {slurm_cluster.node}" in screen_text(app))
        run_dir = app.screen.query_one("RunView").latest.update.summary.run_dir
        (run_dir / "gate").touch()
        await wait_for(pilot, lambda: "finished" in head(app), timeout=60)
        # the batch shell outlives the engine's end a moment: the view follows the job there
        await wait_for(
            pilot,
            lambda: "Slurm job" in screen_text(app) and "COMPLETED" in screen_text(app),
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while not seen.titled("Run finished"):
            assert time.monotonic() < deadline, seen.notes
            await pilot.pause(0.1)
