"""The Slurm launch without a cluster: the batch script, the `[launch]` keys, and how each
job state reads as a run status. (tests/e2e/test_slurm_flow.py runs a real Slurm.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cockpit.profiles.validate import parse_profile
from cockpit.runs.slurm import JobState, batch_script, job_name
from cockpit.runs.status import EventFold, derive_status
from engines.profile_schema import LaunchSection

RUN_DIR = Path("/shared/runs/20261207-120000-qwen-grpo")
PYTHON = "/shared/envs/train/bin/python"


def _script(**launch) -> str:
    return batch_script(
        LaunchSection(where="slurm", **launch),
        run_id=RUN_DIR.name,
        run_dir=RUN_DIR,
        python=PYTHON,
        engines_path=Path("/shared/cockpit"),
    )


def _sbatch(script: str) -> list[str]:
    return [
        line.removeprefix("#SBATCH ") for line in script.splitlines() if line.startswith("#SBATCH")
    ]


def _accelerate_args(script: str) -> list[str]:
    """The launcher's arguments as each node's bash sees them ($VARS kept as written)."""
    step = next(line for line in script.splitlines() if line.startswith("srun "))
    inner = shlex.split(step)[-1]  # srun … bash -c '<this>'
    return shlex.split(inner)


def test_two_nodes_of_four_gpus_start_one_accelerate_per_node_meeting_at_the_first():
    script = _script(nodes=2, gpus_per_node=4, partition="gpu", time="04:00:00", port=29600)
    options = _sbatch(script)
    assert "--nodes=2" in options and "--ntasks-per-node=1" in options  # one launcher per node
    assert (
        "--gres=gpu:4" in options and "--partition=gpu" in options and "--time=04:00:00" in options
    )
    assert f"--output={RUN_DIR / 'output.log'}" in options and "--open-mode=append" in options
    assert f"--chdir={RUN_DIR}" in options
    args = _accelerate_args(script)
    assert args[:3] == [PYTHON, "-m", "accelerate.commands.launch"]

    def value(flag: str) -> str:
        return args[args.index(flag) + 1]

    assert value("--num_processes") == "8"  # accelerate counts processes over all machines
    assert value("--num_machines") == "2"
    assert value("--machine_rank") == "$SLURM_NODEID"  # expanded on each node by its bash
    assert value("--main_process_ip") == "$COCKPIT_MAIN_NODE"
    assert value("--main_process_port") == "29600"
    assert "--multi_gpu" in args
    assert args[-4:] == ["-m", "engines", "run", str(RUN_DIR)]
    assert "srun --kill-on-bad-exit=1 bash -c " in script  # one node lost ends them all
    # the first node of the allocation, resolved inside the job
    assert re.search(r'scontrol show hostnames "\$SLURM_JOB_NODELIST" \| head -n 1', script)
    assert "export COCKPIT_MAIN_NODE" in script
    assert "export PYTHONPATH=/shared/cockpit" in script


def test_one_process_runs_the_engine_directly_and_a_resume_says_so():
    script = batch_script(
        LaunchSection(where="slurm", gpus_per_node=0, account="lab", sbatch=("--qos=high",)),
        run_id="r1",
        run_dir=RUN_DIR,
        python=PYTHON,
        engines_path=Path("/x"),
        resume=True,
    )
    assert "accelerate.commands.launch" not in script
    assert f"srun {PYTHON} -m engines run {RUN_DIR} --resume" in script
    options = _sbatch(script)
    assert "--account=lab" in options and "--qos=high" in options
    assert not any(o.startswith("--gres") for o in options)  # CPU: no GPU asked


def test_a_hostile_run_id_cannot_break_out_of_the_job_name():
    assert job_name("a b;rm -rf /\n") == "cockpit-a-b-rm--rf---"


@pytest.mark.parametrize(
    ("state", "status", "words"),
    [
        ({"state": "PENDING", "reason": "Resources"}, "queued", "PENDING (Resources)"),
        ({"state": "PENDING", "reason": "Priority"}, "queued", "waits for its nodes"),
        ({"state": "RUNNING", "nodes": ["n1"]}, "starting", ""),
        ({"state": "TIMEOUT"}, "stopped", "TIMEOUT"),
        ({"state": "CANCELLED"}, "stopped", "CANCELLED"),
        ({"state": "OUT_OF_MEMORY", "exit_code": "0:125"}, "crashed", "--mem"),
        ({"state": "NODE_FAIL"}, "crashed", "node"),
        ({"state": "FAILED", "exit_code": "1:0"}, "crashed", "exit code 1:0"),
        ({"state": "COMPLETED", "exit_code": "0:0"}, "failed", "without training a step"),
    ],
)
def test_each_job_state_reads_as_a_run_status(state, status, words):
    meta = {"slurm_job": "7", "launcher": "slurm", "created": 1.0}
    got, reason = derive_status(meta, EventFold(), None, now=1e9, job=state)
    assert got == status
    assert words in reason


def test_a_job_slurm_forgot_is_unknown_not_crashed():
    got, reason = derive_status({"slurm_job": "7"}, EventFold(), None, now=1e9, job=None)
    assert got == "unknown" and "7" in reason


def test_the_engines_end_wins_but_a_timeout_still_says_timeout():
    fold = EventFold().add_all(
        [
            {"kind": "start", "t": 1.0, "steps": 100},
            {"kind": "step", "t": 2.0, "step": 1},
            {"kind": "end", "t": 3.0, "status": "stopped", "steps_done": 1},
        ]
    )
    meta = {"slurm_job": "7"}
    assert derive_status(meta, fold, None, job={"state": "COMPLETED"}) == (
        "stopped",
        "stopped at step 1",
    )
    status, reason = derive_status(meta, fold, None, job={"state": "TIMEOUT"})
    assert status == "stopped" and reason.startswith("TIMEOUT") and "launch.time" in reason
    # the engine ended on Slurm's SIGTERM while the job is still COMPLETING at its limit
    completing = {"state": "COMPLETING", "reason": "TimeLimit"}
    assert derive_status(meta, fold, None, job=completing)[1].startswith("TIMEOUT")
    completing_by_cancel = {"state": "COMPLETING", "reason": "None"}
    assert derive_status(meta, fold, None, job=completing_by_cancel)[1] == "stopped at step 1"


def test_job_state_round_trips_through_run_json_and_shows_the_nodes():
    state = JobState("9", "RUNNING", "None", ("gpu01", "gpu02"), "0:0", "04:00:00")
    assert JobState.from_json(state.to_json()) == state
    assert state.shown() == "RUNNING on gpu01,gpu02"
    assert JobState("9", "PENDING", "Resources").shown() == "PENDING (Resources)"
    assert JobState.from_json({"state": 3}) is None


def _launch(**launch):
    return parse_profile({"name": "x", "model": {"name_or_path": "m"}, "launch": launch})


def test_launch_keys_are_checked_with_the_fix():
    profile, problems = _launch(where="slurm", nodes=2, gpus_per_node=4, time="1-00:00:00")
    assert profile is not None and profile.launch.machines == 2 and profile.launch.per_machine == 4
    cases = {
        "ssh": ({"where": "ssh"}, 'hosts = ["gpu1", "gpu2"]'),
        "time": ({"where": "slurm", "time": "4h"}, 'write "04:00:00"'),
        "sbatch": ({"where": "slurm", "sbatch": ["#SBATCH --mem=8G"]}, 'write "--mem=8G"'),
        "option": ({"where": "ssh", "hosts": ["-oProxyCommand=x"]}, "not a host name"),
        "where": ({"where": "cluster"}, 'did you mean "slurm"?'),
    }
    for name, (launch, words) in cases.items():
        profile, problems = _launch(**launch)
        assert profile is None, name
        assert any(words in str(p) for p in problems), (name, [str(p) for p in problems])


def test_keys_for_another_launch_are_said_ignored_not_refused():
    profile, problems = _launch(where="local", partition="gpu")
    assert profile is not None
    assert [str(p) for p in problems] == [
        'warning: launch.partition = "gpu": ignored: where = "local"'
    ]


def test_grpo_batch_is_checked_against_every_process_of_every_node():
    raw = {
        "name": "g",
        "engine": "grpo",
        "model": {"name_or_path": "m"},
        "train": {"batch_size": 2, "grad_accum": 1},
        "grpo": {"num_generations": 8},
        "launch": {"where": "slurm", "nodes": 2, "gpus_per_node": 1},
    }
    profile, problems = parse_profile(raw)  # 2 × 1 × 2 nodes = 4 completions: not a group of 8
    assert profile is None
    assert any("4 completions" in str(p) for p in problems), [str(p) for p in problems]
    raw["launch"]["gpus_per_node"] = 2  # 2 × 1 × 4 processes = 8
    assert parse_profile(raw)[0] is not None
