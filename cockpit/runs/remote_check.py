"""Pre-flight of a run that trains elsewhere (`[launch] where = "slurm" | "ssh"`).

What can be known from the submitting machine is checked: Slurm's commands on PATH and the
partition among the cluster's; a run directory that the nodes are unlikely to see (a
node-local /tmp) is warned about. The nodes' GPUs cannot be read from here, so the VRAM
verdict plans for `[hardware] gpu_memory_gib` when set and says so when not.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from cockpit.hardware.snapshot import GpuTraits
from cockpit.remote.ssh import ssh_argv, ssh_failure
from cockpit.runs import slurm
from cockpit.runs.engine_env import engines_search_path
from cockpit.runs.refusal import Refusal
from engines.profile_schema import Profile

_NODE_LOCAL = ("/tmp", "/var/tmp", "/dev/shm", "/run")
_SINFO_TIMEOUT_S = 10.0


def remote_cards(profile: Profile) -> tuple[GpuTraits, ...]:
    """The card each process of a remote run plans for: `[hardware] gpu_memory_gib`."""
    size = profile.hardware.gpu_memory_gib
    per_machine = profile.launch.per_machine or 1
    return tuple(GpuTraits("", size) for _ in range(per_machine)) if size > 0 else ()


def asks_remote_gpus(profile: Profile) -> bool:
    """True for a run on other machines' GPUs (whose CUDA cannot be checked from here)."""
    launch = profile.launch
    return (
        launch.gpus_per_node > 0
        if launch.where == "slurm"
        else (launch.where == "ssh" and launch.gpus_per_host > 0)
    )


def remote_processes(profile: Profile) -> int:
    return profile.launch.machines * (profile.launch.per_machine or 1)


def launch_refusals(
    profile: Profile, runs_root: Path, python: str = "", data: Path | str | None = None
) -> tuple[list[Refusal], list[str]]:
    """(refusals, notes) for where the run goes; `python` the training interpreter (on
    every host), `data` the resolved data path."""
    if profile.launch.where == "slurm":
        return _slurm(profile, runs_root)
    if profile.launch.where == "ssh":
        return _ssh(profile, runs_root, python or sys.executable, data)
    return [], []


_HOST_CHECK = """\
import importlib.util, json, os, sys
marker, data, engines, model = sys.argv[1:5]
print(json.dumps({
    "missing": [m for m in sys.argv[5:] if importlib.util.find_spec(m) is None],
    "sees_runs": os.path.exists(marker),
    "data": not data or os.access(data, os.R_OK),
    "engines": not engines or os.path.isdir(os.path.join(engines, "engines")),
    "model": not model or os.path.isfile(os.path.join(model, "config.json")),
}))
"""
_HOST_MODULES = ("torch", "transformers", "peft", "trl", "accelerate")
_SSH_CHECK_S = 30.0


def _ssh(
    profile: Profile, runs_root: Path, python: str, data: Path | str | None
) -> tuple[list[Refusal], list[str]]:
    """Each host: reachable, the training stack importable by `python` there, the runs
    folder and the data at the same paths (a shared filesystem)."""
    engines = engines_search_path(runs_root / ".probe", stage=False)
    engines_arg = "" if runs_root in engines.parents else str(engines)  # staged per run
    data_arg = str(data) if isinstance(data, Path) else ""
    model = Path(profile.model.name_or_path).expanduser()
    model_arg = str(model.resolve()) if model.is_absolute() or model.is_dir() else ""
    try:
        runs_root.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".cockpit-sees-", dir=runs_root)
        os.close(handle)
        marker = Path(name)
    except OSError as exc:
        message = f"cannot write to the runs folder {runs_root}: {exc.strerror or exc}"
        return [Refusal("", message, "set runs_dir to a folder you can write", "hardware")], []
    hosts = list(dict.fromkeys(profile.launch.hosts))
    argv = [python, "-c", _HOST_CHECK, str(marker), data_arg, engines_arg, model_arg]
    argv += _HOST_MODULES
    found: dict[str, list[Refusal]] = {}
    try:
        threads = [
            threading.Thread(target=lambda h=host: found.setdefault(h, _check_host(h, argv)))
            for host in hosts
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(_SSH_CHECK_S + 5)
    finally:
        marker.unlink(missing_ok=True)
    refusals = [r for host in hosts for r in found.get(host, [_no_answer(host)])]
    return refusals, []


def _no_answer(host: str) -> Refusal:
    return Refusal(
        "launch.hosts",
        f"{host} did not answer in {_SSH_CHECK_S:g} s",
        f"try `ssh {host} true`",
        "hardware",
    )


def _check_host(host: str, argv: list[str]) -> list[Refusal]:
    key = "launch.hosts"
    try:
        done = subprocess.run(
            ssh_argv(host, argv),
            capture_output=True,
            text=True,
            timeout=_SSH_CHECK_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return [_no_answer(host)]
    except OSError as exc:
        return [
            Refusal(
                key,
                f"cannot run ssh: {exc.strerror or exc}",
                "install OpenSSH's client",
                "hardware",
            )
        ]
    failed = ssh_failure(host, done.returncode, done.stderr)
    if done.returncode == 127 or (done.returncode and "no such file" in done.stderr.lower()):
        fix = "set env.python to an interpreter at the same path on every host"
        return [Refusal("env.python", f"{argv[0]} is not found on {host}", fix, "env")]
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        cause = failed.cause if failed else f"{host} gave no answer"
        fix = failed.fix if failed else f"try `ssh {host} {argv[0]} -V`"
        return [Refusal(key, cause, fix, "hardware")]
    refusals = []
    if facts.get("missing"):
        missing = ", ".join(facts["missing"])
        fix = f"install them there: {argv[0]} -m pip install {' '.join(facts['missing'])}"
        refusals.append(Refusal("env.python", f"{argv[0]} on {host} lacks {missing}", fix, "env"))
    if not facts.get("sees_runs"):
        message = f"{host} does not see the runs folder {Path(argv[3]).parent}"
        fix = (
            "the run folder must be at the same path on every host: mount it there "
            "(NFS, sshfs) or set runs_dir to a shared folder"
        )
        refusals.append(Refusal(key, message, fix, "hardware"))
    if not facts.get("data"):
        fix = "copy it there at the same path, or put it on a shared folder"
        refusals.append(Refusal("data.path", f"{host} cannot read {argv[4]}", fix, "data"))
    if not facts.get("model"):
        fix = "copy the model folder there at the same path, or use a hub id"
        refusals.append(
            Refusal("model.name_or_path", f"{host} has no model at {argv[6]}", fix, "model")
        )
    if not facts.get("engines"):
        fix = "install cockpit there at the same path, or run from a shared folder"
        refusals.append(
            Refusal(key, f"{host} does not see cockpit's engines at {argv[5]}", fix, "env")
        )
    return refusals


def _slurm(profile: Profile, runs_root: Path) -> tuple[list[Refusal], list[str]]:
    refusals, notes = [], []
    missing = slurm.missing_commands()
    if missing:
        message = f"Slurm's {', '.join(missing)} not on PATH: this machine cannot submit jobs"
        fix = 'run cockpit on the cluster\'s login node, or set launch.where = "local"'
        return [Refusal("launch.where", message, fix, "hardware", value='"slurm"')], notes
    partitions, error = _partitions()
    if error:
        fix = "check that this machine submits to the cluster (`sinfo`; SLURM_CONF, slurmctld)"
        return [Refusal("launch.where", f"Slurm does not answer: {error}", fix, "hardware")], notes
    partition = profile.launch.partition
    if partition and partitions and partition not in partitions:
        close = difflib.get_close_matches(partition, partitions, n=1, cutoff=0.5)
        fix = f'set launch.partition = "{close[0]}"' if close else "set launch.partition to one"
        message = f"no such partition; the cluster has {', '.join(partitions)}"
        refusals.append(
            Refusal("launch.partition", message, fix, "hardware", value=f'"{partition}"')
        )
    if str(runs_root.resolve()).startswith(_NODE_LOCAL):
        notes.append(
            f"the runs folder {runs_root} looks node-local: the nodes write the run's events "
            "and checkpoints there, so it must be on a filesystem they share (set runs_dir)"
        )
    if profile.launch.gpus_per_node > 0 and profile.hardware.gpu_memory_gib <= 0:
        notes.append(
            "the nodes' GPUs cannot be read from here: set hardware.gpu_memory_gib to their "
            "card's memory for a VRAM verdict"
        )
    return refusals, notes


def _partitions() -> tuple[list[str], str]:
    """(the cluster's partition names, "") from `sinfo`, or ([], why it did not answer);
    ([], "") when there is no sinfo to ask."""
    if shutil.which("sinfo") is None:
        return [], ""
    try:
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%R"],
            capture_output=True,
            text=True,
            timeout=_SINFO_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return [], f"sinfo gave no answer in {_SINFO_TIMEOUT_S:g} s (slurmctld down?)"
    except OSError as exc:
        return [], f"sinfo could not run ({exc.strerror or exc})"
    if result.returncode != 0:
        said = result.stderr.strip().splitlines()
        return [], said[-1] if said else f"sinfo exited with {result.returncode}"
    names = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    return sorted(set(names)), ""
