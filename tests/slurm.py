"""A real single-node Slurm cluster for tests: munge, slurmctld and slurmd in a temp dir.

Debian's `slurm-wlm` and `munge` (`.ci/run` installs them), configured from scratch: a
fresh munge key and socket, free ports, this machine as the only node (127.0.0.1), no
accounting (sacct is not needed: cockpit reads ended jobs with `scontrol`). The clients
find the cluster through `SLURM_CONF`, which `slurm_cluster` sets for the test. Nothing
outside the temp dir is touched; the daemons are stopped at the end.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.system_tools import need_slurm

_START_S = 60.0


@dataclass(frozen=True)
class SlurmCluster:
    home: Path
    conf: Path
    node: str
    env: dict[str, str]
    """SLURM_CONF for a process that should talk to this cluster."""

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        """A Slurm command against this cluster."""
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            env=os.environ | self.env,
            check=check,
            timeout=30,
        )

    def job_state(self, job_id: str) -> str:
        fields = self.run("scontrol", "show", "job", "-o", job_id, check=False).stdout
        return next((w.split("=", 1)[1] for w in fields.split() if w.startswith("JobState=")), "")

    def logs(self) -> str:
        """The daemons' log tails, for a failure message."""
        parts = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            path = self.home / name
            text = path.read_text(errors="replace") if path.exists() else "(none)"
            parts.append(f"--- {name}\n" + "\n".join(text.splitlines()[-15:]))
        return "\n".join(parts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _daemon(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _wait(condition: Callable[[], bool], timeout: float, what: str, cluster: SlurmCluster) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"Slurm test cluster: {what} within {timeout:g} s\n{cluster.logs()}"
            )
        time.sleep(0.2)


def _config(home: Path, node: str, user: str) -> str:
    cpus = os.cpu_count() or 1
    return f"""\
ClusterName=cockpit-test
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={home}/munge.sock
StateSaveLocation={home}/state
SlurmdSpoolDir={home}/spool
SlurmctldPidFile={home}/slurmctld.pid
SlurmdPidFile={home}/slurmd.pid
SlurmctldLogFile={home}/slurmctld.log
SlurmdLogFile={home}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=5
SchedulerParameters=sched_interval=2,bf_interval=2
MinJobAge=600
InactiveLimit=0
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


@pytest.fixture
def slurm_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlurmCluster]:
    """A running single-node cluster, `SLURM_CONF` set for this test (see the module doc)."""
    need_slurm()
    # A short path: munge's socket must fit a unix socket name (108 bytes).
    home = Path(tempfile.mkdtemp(prefix="ck-slurm-", dir="/tmp"))
    (home / "state").mkdir()
    (home / "spool").mkdir()
    node = socket.gethostname().split(".")[0]
    conf = home / "slurm.conf"
    conf.write_text(_config(home, node, getpass.getuser()))
    key = home / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    cluster = SlurmCluster(home, conf, node, {"SLURM_CONF": str(conf)})
    monkeypatch.setenv("SLURM_CONF", str(conf))
    munged = [_daemon("munged"), f"--key-file={key}", f"--socket={home}/munge.sock"]
    munged += [f"--pid-file={home}/munged.pid", f"--log-file={home}/munged.log"]
    munged += [f"--seed-file={home}/munge.seed", "--force"]  # --force: CI runs as root
    try:
        subprocess.run(munged, check=True, capture_output=True, timeout=30)
        _wait(lambda: (home / "munge.sock").exists(), _START_S, "munged did not start", cluster)
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run(
                [_daemon(daemon), "-f", str(conf)], check=True, timeout=30, env=os.environ
            )

        def idle() -> bool:
            states = cluster.run("sinfo", "-h", "-o", "%T", check=False).stdout.split()
            return states == ["idle"]

        _wait(idle, _START_S, "the node did not become idle", cluster)
        yield cluster
    finally:
        subprocess.run(
            ["scancel", "--full", "--partition=debug"],
            env=os.environ | cluster.env,
            capture_output=True,
            timeout=30,
            check=False,
        )
        for pidfile in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
            _stop(_pid(home / pidfile))
        _stop_step_daemons(home)
        shutil.rmtree(home, ignore_errors=True)


def _stop_step_daemons(home: Path) -> None:
    """A job's slurmstepd outlives slurmd; this cluster's work in its spool dir (its cwd)."""
    for proc in psutil.process_iter(["name"]):
        with contextlib.suppress(psutil.Error):
            if (proc.info["name"] or "").startswith("slurmstepd") and proc.cwd().startswith(
                str(home)
            ):
                proc.kill()


def _stop(pid: int | None, timeout: float = 10.0) -> None:
    """SIGTERM a daemon and wait for it to go (SIGKILL after `timeout`). A daemon's parent
    is init, which in a container may never reap it: a zombie counts as gone."""
    if pid is None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        daemon = psutil.Process(pid)
        daemon.terminate()
        deadline = time.monotonic() + timeout
        while daemon.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                daemon.kill()
                return
            time.sleep(0.1)
