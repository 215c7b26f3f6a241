"""Issue 17's Slurm runs against a REAL single-node Slurm (tests/slurm.py) and the real engine.

- `cockpit train` in a real terminal: the job waits in the queue behind another job
  (PENDING, Resources), then runs, its loss on screen, and ends COMPLETED / finished.
- `cockpit stop` of a running job: SIGINT through `scancel --signal=INT`, the engine
  checkpoints and ends `stopped`; resume resubmits from that checkpoint and finishes.
- A job past its time limit (one minute, Slurm's smallest) ends TIMEOUT.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.runs import slurm
from cockpit.runs.preflight import preflight
from cockpit.runs.store import summarize_dir
from cockpit.runs.supervisor import resume_run, start_run, stop_run
from tests.e2e.tmux import Tmux
from tests.remote_runs import demo_profile, remote_env, wait_summary
from tests.slurm import SlurmCluster
from tests.system_tools import need_slurm, need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")

pytestmark = pytest.mark.e2e


def _profile(tmp_path: Path, *, steps: int, save_steps: int = 10, time_limit: str = "") -> Path:
    launch = 'where = "slurm"\ngpus_per_node = 0\n'
    launch += f'time = "{time_limit}"\n' if time_limit else ""
    return demo_profile(tmp_path / "slurm-demo.toml", steps, launch, save_steps=save_steps)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slurm_cluster: SlurmCluster) -> dict:
    """cockpit's and the engine's environment (sbatch passes it on to the job)."""
    return remote_env(tmp_path, monkeypatch, slurm_cluster.env)


def test_a_queued_job_runs_with_its_loss_on_screen_and_completes(env, tmp_path, slurm_cluster):
    need_tmux()
    blocker = slurm_cluster.run(
        "sbatch", "--parsable", "--exclusive", "--wrap", "sleep 300", "-o", "/dev/null"
    ).stdout.strip()
    deadline = time.monotonic() + 30
    while slurm_cluster.job_state(blocker) != "RUNNING":
        assert time.monotonic() < deadline, slurm_cluster.logs()
        time.sleep(0.2)
    profile = _profile(tmp_path, steps=40)
    term = Tmux(f"env -u COLUMNS -u LINES {COCKPIT} train {profile}", 100, 30, env)
    try:
        screen = term.wait_until(
            lambda s: "PENDING" in s and re.search(r"\bqueued\b", s) is not None,
            timeout=60,
            what="the job pending, the run queued",
        )
        assert "submitted to Slurm as job" in screen and "(Resources)" in screen
        slurm_cluster.run("scancel", blocker)
        screen = term.wait_until(
            lambda s: re.search(r"loss \d+\.\d{4}", s) is not None, timeout=120, what="a loss"
        )
        assert "RUNNING on" in screen
        screen = term.wait_for("[exited", timeout=180)
        assert "finished" in screen and "[exited 0]" in screen
    finally:
        term.close()

    def listed() -> dict:
        argv = [COCKPIT, "runs", "--json"]
        runs = json.loads(subprocess.run(argv, capture_output=True, env=env, check=True).stdout)
        assert len(runs) == 1
        return runs[0]

    deadline = time.monotonic() + 60  # the batch shell outlives the engine's end a moment
    while (run := listed())["extra"]["slurm"]["state"] != "COMPLETED":
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
    assert run["status"] == "finished" and run["step"] == 40


def test_stop_checkpoints_through_scancel_and_resume_resubmits_to_the_end(env, tmp_path):
    run = start_run(_profile(tmp_path, steps=300, save_steps=5))
    meta = json.loads((run.path / "run.json").read_text())
    assert meta["launcher"] == "slurm" and meta["slurm_job"].isdigit()
    assert (run.path / "slurm.sbatch").read_text().startswith("#!/bin/bash")
    wait_summary(lambda: summarize_dir(run), lambda s: (s.step or 0) >= 6, timeout=180)
    stopped = stop_run(run.id, grace_s=90, term_s=20)
    assert stopped.status == "stopped", stopped
    assert stopped.last_checkpoint, "a graceful stop leaves a checkpoint"
    first_job = meta["slurm_job"]
    resumed = resume_run(run.id)
    new_job = json.loads((run.path / "run.json").read_text())["slurm_job"]
    assert new_job != first_job
    assert "--resume" in (run.path / "slurm.sbatch").read_text()
    final = wait_summary(lambda: summarize_dir(resumed), lambda s: not s.active, timeout=300)
    assert final.status == "finished", final
    assert final.step == 300
    starts = [
        json.loads(line)
        for line in (run.path / "events.jsonl").read_text().splitlines()
        if '"kind": "start"' in line or '"kind":"start"' in line
    ]
    assert starts[-1].get("resumed_from"), starts[-1]


def test_a_job_past_its_time_limit_shows_timeout(env, tmp_path):
    run = start_run(_profile(tmp_path, steps=1_000_000, save_steps=50, time_limit="1"))
    # Slurm's SIGTERM at the limit ends the engine (its end event: "stopped") while squeue
    # still says RUNNING, then COMPLETING: TIMEOUT can be said once Slurm says it
    summary = wait_summary(
        lambda: summarize_dir(run),
        lambda s: not s.active and (s.extra.get("slurm") or {}).get("state") not in slurm.LIVE,
        timeout=240,
    )
    assert summary.extra["slurm"]["state"] == "TIMEOUT", summary
    assert summary.reason.startswith("TIMEOUT"), summary.reason
    assert "launch.time" in summary.reason


def test_dry_run_prints_the_batch_script_and_submits_nothing(env, tmp_path, slurm_cluster):
    done = subprocess.run(
        [COCKPIT, "train", str(_profile(tmp_path, steps=5)), "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "#!/bin/bash" in done.stdout and "#SBATCH --nodes=1" in done.stdout
    assert "srun " in done.stdout
    queue = slurm_cluster.run("squeue", "-h", "-o", "%i").stdout.split()
    assert queue == []
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_preflight_refuses_when_slurm_does_not_answer(tmp_path, monkeypatch):
    need_slurm()
    monkeypatch.setenv("SLURM_CONF", str(tmp_path / "no-such-slurm.conf"))
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COCKPIT_DATA_PREFLIGHT", "0")
    check = preflight(_profile(tmp_path, steps=5), hub_probe=None, stack_probe=None)
    (refusal,) = check.refusals
    assert refusal.key == "launch.where" and refusal.message.startswith("Slurm does not answer")
    assert "sinfo" in refusal.fix


def test_a_plain_scancel_from_outside_cockpit_ends_it_stopped_with_a_checkpoint(
    env, tmp_path, slurm_cluster
):
    run = start_run(_profile(tmp_path, steps=300, save_steps=5))
    job = json.loads((run.path / "run.json").read_text())["slurm_job"]
    wait_summary(lambda: summarize_dir(run), lambda s: (s.step or 0) >= 6, timeout=180)
    slurm_cluster.run("scancel", job)  # Slurm: SIGTERM to the steps, SIGKILL after KillWait
    final = wait_summary(lambda: summarize_dir(run), lambda s: not s.active, timeout=120)
    assert final.status == "stopped", final
    assert final.last_checkpoint
