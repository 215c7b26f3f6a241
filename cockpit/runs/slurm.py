"""Slurm: a run's batch script, its submission, the job's state, and cancelling it.

cockpit never schedules. It writes the batch script into the run directory, which must be
on a filesystem the nodes share (the engine writes its events and checkpoints there),
submits it with `sbatch --parsable`, and reads the job's state from Slurm's own commands:
`squeue` while it is queued or running, then `scontrol show job` (slurmctld remembers an
ended job for MinJobAge, 300 s by default), then `sacct` where accounting is set up. The
state first seen as ended is kept in run.json (`slurm_final`), so a run still says how it
ended after Slurm has forgotten the job.

On each node `srun` starts one `accelerate launch` (one process per GPU) that meets the
others at the first node of the allocation: `--num_machines $SLURM_NNODES --machine_rank
$SLURM_NODEID --main_process_ip <first node>`, as accelerate's multi-node guide has it.
One process on one node runs the engine directly, as a local run does.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cockpit.runs.engine_env import engine_tail
from engines.profile_schema import LaunchSection

SCRIPT_FILE = "slurm.sbatch"
"""The batch script's name in the run directory."""
COMMANDS = ("sbatch", "squeue", "scontrol", "scancel")
"""What cockpit runs on the submitting machine (a cluster's login node)."""
QUEUED = ("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD")
LIVE = ("RUNNING", "COMPLETING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "RESIZING", "STOPPED")
_TIMEOUT_S = 15.0
_CACHE_S = 2.0
"""How long a job's state is reused: every place and list asks, Slurm is asked once."""


class SlurmError(Exception):
    """A Slurm command failed or is missing; the message says which and how to fix it."""


@dataclass(frozen=True)
class JobState:
    """A job as Slurm reports it. `state` is Slurm's word (PENDING, RUNNING, TIMEOUT…)."""

    job_id: str
    state: str
    reason: str = ""
    """Why a job waits (Priority, Resources, QOSMaxJobsPerUserLimit…); "" when none."""
    nodes: tuple[str, ...] = ()
    exit_code: str = ""
    """"code:signal" as Slurm prints it."""
    time_limit: str = ""

    @property
    def queued(self) -> bool:
        return self.state in QUEUED

    @property
    def ended(self) -> bool:
        return bool(self.state) and self.state not in QUEUED and self.state not in LIVE

    def shown(self) -> str:
        """ "PENDING (Resources)", "RUNNING on node1,node2", "TIMEOUT"."""
        text = self.state
        if self.reason and self.reason != "None":
            text += f" ({self.reason})"
        if self.nodes and not self.queued:
            text += f" on {','.join(self.nodes)}"
        return text

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"nodes": list(self.nodes)}

    @classmethod
    def from_json(cls, data: Any) -> JobState | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("state"), str):
            return None
        nodes = data.get("nodes") if isinstance(data.get("nodes"), list) else []
        texts = {k: str(data.get(k) or "") for k in ("job_id", "reason", "exit_code", "time_limit")}
        return cls(state=data["state"], nodes=tuple(str(n) for n in nodes), **texts)


# -- the batch script -------------------------------------------------------------------


def job_name(run_id: str) -> str:
    return "cockpit-" + re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)[:80]


def batch_script(
    launch: LaunchSection,
    *,
    run_id: str,
    run_dir: Path,
    python: str,
    engines_path: Path,
    resume: bool = False,
    module: str = "engines",
) -> str:
    """The batch script that trains `run_dir` on `launch.nodes` nodes (see module doc)."""
    nodes, per_node = launch.machines, launch.per_machine or 1
    options = [
        f"--job-name={job_name(run_id)}",
        f"--nodes={nodes}",
        "--ntasks-per-node=1",
        *([f"--gres=gpu:{launch.gpus_per_node}"] if launch.gpus_per_node > 0 else []),
        *([f"--partition={launch.partition}"] if launch.partition else []),
        *([f"--time={launch.time}"] if launch.time else []),
        *([f"--account={launch.account}"] if launch.account else []),
        f"--output={run_dir / 'output.log'}",
        "--open-mode=append",
        f"--chdir={run_dir}",
        *launch.sbatch,
    ]
    tail = engine_tail(run_dir, resume=resume, module=module)
    meet: list[str] = []
    if nodes * per_node == 1:
        step = "srun " + shlex.join([python, *tail])
    else:
        meet = [
            "# rank 0's node: where every node's accelerate meets the others",
            'COCKPIT_MAIN_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
            "export COCKPIT_MAIN_NODE",
        ]
        accelerate = [python, "-m", "accelerate.commands.launch"]
        accelerate += ["--num_processes", str(nodes * per_node), "--num_machines", str(nodes)]
        inner = shlex.join(accelerate)
        inner += ' --machine_rank "$SLURM_NODEID" --main_process_ip "$COCKPIT_MAIN_NODE"'
        rest = ["--main_process_port", str(launch.port), "--multi_gpu", "--mixed_precision"]
        inner += " " + shlex.join([*rest, "no", "--dynamo_backend", "no", *tail])
        step = "srun --kill-on-bad-exit=1 bash -c " + shlex.quote(inner)
    return "\n".join(
        [
            "#!/bin/bash",
            f"# cockpit run {run_id}: `sbatch {SCRIPT_FILE}` in its run directory submits it again",
            *(f"#SBATCH {option}" for option in options),
            "",
            f"export PYTHONPATH={shlex.quote(str(engines_path))}${{PYTHONPATH:+:$PYTHONPATH}}",
            "export PYTHONUNBUFFERED=1 PYTHONIOENCODING=utf-8",
            *meet,
            f'echo "cockpit: Slurm job $SLURM_JOB_ID: {_processes(nodes * per_node)}"',
            step,
            "",
        ]
    )


def _processes(count: int) -> str:
    return f"{count} process" + ("es" if count != 1 else "")


# -- Slurm's commands ----------------------------------------------------------------------


def missing_commands() -> list[str]:
    """The Slurm commands not on PATH (all of them on a machine that is no login node)."""
    return [name for name in COMMANDS if shutil.which(name) is None]


def _run(argv: Sequence[str], env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_TIMEOUT_S,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise SlurmError(
            f"{argv[0]} is not on PATH: run cockpit on a machine that submits to Slurm "
            '(the cluster\'s login node), or set where = "local"'
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise SlurmError(f"{argv[0]} did not answer in {_TIMEOUT_S:g} s (slurmctld down?)") from exc


def submit(script: Path, env: Mapping[str, str] | None = None) -> str:
    """`sbatch --parsable SCRIPT`; returns the job id. Raises SlurmError with sbatch's words."""
    result = _run(["sbatch", "--parsable", str(script)], env)
    job_id = result.stdout.strip().split(";")[0]  # "id" or "id;cluster"
    if result.returncode != 0 or not job_id.isdigit():
        said = (result.stderr or result.stdout).strip().splitlines()
        reason = said[-1] if said else f"exit code {result.returncode}"
        raise SlurmError(f"sbatch refused the job: {reason}")
    return job_id


def cancel(job_id: str, signal: str | None = None) -> None:
    """`scancel [--signal=SIG] JOB`: a signal reaches the job's steps (the engine), none
    ends the job. Raises SlurmError when scancel fails for a job it knows."""
    argv = ["scancel", *([f"--signal={signal}"] if signal else []), str(job_id)]
    result = _run(argv)
    if result.returncode != 0 and "Invalid job id" not in result.stderr:
        said = result.stderr.strip().splitlines()
        raise SlurmError(f"scancel failed: {said[-1] if said else result.returncode}")


_cache: dict[tuple[str, str], tuple[float, JobState | None]] = {}
_cache_lock = threading.Lock()


def job_state(job_id: str, *, fresh: bool = False) -> JobState | None:
    """The job's state from squeue, then scontrol, then sacct; None when none knows it.
    Answers are reused for 2 s (and forever once the job ended) unless `fresh`; job ids
    are a cluster's own, so the cache is the cluster's (`SLURM_CONF`) too."""
    now = time.monotonic()
    key = (os.environ.get("SLURM_CONF", ""), job_id)
    with _cache_lock:
        cached = _cache.get(key)
    if cached and not fresh and (now - cached[0] < _CACHE_S or (cached[1] and cached[1].ended)):
        return cached[1]
    state = _from_squeue(job_id) or _from_scontrol(job_id) or _from_sacct(job_id)
    with _cache_lock:
        _cache[key] = (now, state)
    return state


def _from_squeue(job_id: str) -> JobState | None:
    try:
        result = _run(["squeue", "-h", "-j", job_id, "-o", "%T|%r|%N|%l"])
    except SlurmError:
        return None
    line = result.stdout.strip().splitlines()[:1]
    if result.returncode != 0 or not line:
        return None
    state, reason, nodes, limit = _cells(line[0], 4)
    return JobState(job_id, state.strip(), reason.strip(), _nodes(nodes), "", limit.strip())


def _from_scontrol(job_id: str) -> JobState | None:
    try:
        result = _run(["scontrol", "show", "job", "-o", job_id])
    except SlurmError:
        return None
    fields = dict(re.findall(r"(\w+)=(\S*)", result.stdout))
    if result.returncode != 0 or "JobState" not in fields:
        return None
    return JobState(
        job_id,
        fields["JobState"],
        fields.get("Reason", ""),
        _nodes(fields.get("NodeList", "")),
        fields.get("ExitCode", ""),
        fields.get("TimeLimit", ""),
    )


def _from_sacct(job_id: str) -> JobState | None:
    try:
        result = _run(
            ["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State,ExitCode,NodeList,Timelimit"]
        )
    except SlurmError:
        return None
    line = result.stdout.strip().splitlines()[:1]
    if result.returncode != 0 or not line:
        return None
    state, code, nodes, limit = _cells(line[0], 4)
    # sacct says "CANCELLED by 1000": the state is the first word
    return JobState(
        job_id, state.split()[0] if state.split() else "", "", _nodes(nodes), code, limit
    )


def _cells(line: str, count: int) -> list[str]:
    return [*line.split("|"), *[""] * count][:count]


def _nodes(text: str) -> tuple[str, ...]:
    """Node names; a compressed list ("gpu[01-02]") is kept as Slurm wrote it."""
    text = text.strip()
    return (
        () if text in ("", "(null)", "None assigned") else tuple(re.split(r",(?![^\[]*\])", text))
    )
