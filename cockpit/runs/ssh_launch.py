"""A run on several ssh hosts: one `accelerate launch` per host, meeting at the first.

`python -m cockpit.runs.ssh_launch RUN_DIR` is what the reaper starts in place of the
engine for `[launch] where = "ssh"` (so stop, the exit record and the run's status work as
for a local run). It reads the per-host commands the supervisor wrote into run.json
(`ssh_hosts`), starts `ssh HOST 'setsid -w bash -c …'` for each, and:

- keeps each host's output in `hosts/HOST.log` of the run dir (streamed back over ssh);
- learns each remote engine's process group from the first line it prints, so that a
  SIGINT or SIGTERM it receives (`cockpit stop`) reaches every host's engine
  (`ssh HOST kill -INT -- -PGID`);
- when one host's engine ends badly while the others run (killed, crashed, the connection
  dropped), records `host_failed` in run.json (the run reads `crashed`, naming the host),
  then ends the others (TERM, then KILL after a grace) and exits 1.

The run directory must be at the same path on every host (a shared filesystem, as for
Slurm): rank 0 writes the events and checkpoints there. Pre-flight checks that each host
sees it (`cockpit.runs.remote_check`).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from cockpit.redact import redact
from cockpit.remote.ssh import ssh_argv, ssh_failure
from cockpit.runs.engine_env import engine_tail
from cockpit.runs.runjson import RunMetaError, read_meta, update_meta
from engines.profile_schema import LaunchSection
from engines.protocol import RUN_FILE

PID_MARK = "cockpit-remote-pgid "
HOSTS_DIR = "hosts"
KILL_GRACE_S = 10.0
SETTLE_S = 2.0
"""After a host's failure, how long the others' exits are awaited to tell cause from effect."""


def main_address(host: str) -> str:
    """The address the other hosts reach rank 0's host at: its HostName in ssh's config
    (`ssh -G`), which is what an alias of ~/.ssh/config stands for."""
    argv = ssh_argv(host, ["true"])
    try:
        shown = subprocess.run(
            ["ssh", "-G", *argv[1:-2], host], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return host
    for line in shown.splitlines():
        key, _, value = line.partition(" ")
        if key == "hostname" and value.strip():
            return value.strip()
    return host


def host_commands(
    launch: LaunchSection,
    *,
    run_dir: Path,
    python: str,
    engines_path: Path,
    main_address: str,
    resume: bool = False,
    module: str = "engines",
) -> list[tuple[str, list[str]]]:
    """(host, remote argv) for each host: rank i runs on hosts[i]."""
    machines, per_host = launch.machines, launch.per_machine or 1
    tail = engine_tail(run_dir, resume=resume, module=module)
    commands = []
    for rank, host in enumerate(launch.hosts):
        engine = [python, "-m", "accelerate.commands.launch"]
        engine += ["--num_processes", str(machines * per_host), "--num_machines", str(machines)]
        engine += ["--machine_rank", str(rank), "--main_process_ip", main_address]
        engine += ["--main_process_port", str(launch.port), "--multi_gpu"]
        engine += ["--mixed_precision", "no", "--dynamo_backend", "no", *tail]
        script = (
            f'echo "{PID_MARK}$$"; cd {shlex.quote(str(run_dir))} && exec env '
            f"PYTHONPATH={shlex.quote(str(engines_path))}${{PYTHONPATH:+:$PYTHONPATH}} "
            f"PYTHONUNBUFFERED=1 PYTHONIOENCODING=utf-8 {shlex.join(engine)}"
        )
        commands.append((host, ["setsid", "-w", "bash", "-c", script]))
    return commands


def host_logs(run_dir: Path) -> list[tuple[str, Path]]:
    """(host, its log) of an ssh run, rank 0 first; [] for any other run."""
    try:
        hosts = read_meta(run_dir / RUN_FILE).get("ssh_hosts") or []
    except RunMetaError:
        return []
    names = [h.get("host") for h in hosts if isinstance(h, dict)]
    return [(n, run_dir / HOSTS_DIR / f"{n}.log") for n in names if isinstance(n, str)]


class _Host:
    """One host's ssh process, its log, and its remote engine's process group."""

    def __init__(self, run_dir: Path, name: str, remote: list[str]) -> None:
        self.name = name
        self.run_dir = run_dir
        self.pgid: int | None = None
        self.log = run_dir / HOSTS_DIR / f"{name}.log"
        self.log.parent.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            ssh_argv(name, remote),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.stderr_tail: list[str] = []
        self.reader = threading.Thread(target=self._read, name=f"ssh-{name}", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with open(self.log, "ab") as log:
            for raw in self.proc.stdout:
                text = raw.decode("utf-8", errors="replace")
                if self.pgid is None and text.startswith(PID_MARK):
                    with contextlib.suppress(ValueError):
                        self.pgid = int(text[len(PID_MARK) :].strip())
                    continue
                self.stderr_tail = [*self.stderr_tail[-9:], text.rstrip("\n")]
                log.write(redact(text).encode("utf-8"))
                log.flush()

    def signal(self, name: str) -> None:
        """Send SIG`name` to the remote engine (over a second ssh): INT to its launcher's
        process group (accelerate stops its ranks); TERM and KILL also to every process of
        this run there, since torch starts each rank in a session of its own."""
        if self.pgid is None or self.proc.poll() is not None:
            return
        script = f"kill -{name} -- -{self.pgid} 2>/dev/null"
        if name != "INT":
            pattern = re.escape(f"engines run {self.run_dir}")
            script += f"; pkill -{name} -f -- {shlex.quote(pattern)}"
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                ssh_argv(self.name, ["bash", "-c", script + "; true"]),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=15,
            )


def _failure(host: _Host, code: int) -> str:
    """Why a host's part of the run ended badly, in one line."""
    said = "\n".join(host.stderr_tail)
    if code == 255:
        failed = ssh_failure(host.name, code, said)
        if failed is not None and "failed:" not in failed.cause:
            return f"{failed.cause} ({failed.fix})"
        return "its engine was killed or the connection dropped (ssh exit 255)"
    # setsid -w exits with the signal's number (and says "did not exit normally"), a shell
    # with 128 + it
    number = code if "did not exit normally" in said else code - 128 if code > 128 else 0
    if number > 0:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"its engine was killed ({name})"
    last = host.stderr_tail[-1] if host.stderr_tail else "no output"
    return f"its engine exited with code {code} ({last})"


def run(run_dir: Path) -> int:
    meta = read_meta(run_dir / RUN_FILE)
    hosts = [_Host(run_dir, h["host"], h["argv"]) for h in meta.get("ssh_hosts", [])]
    if not hosts:
        print("cockpit: run.json names no ssh hosts", file=sys.stderr)
        return 2
    stopping: list[str] = []

    def forward(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name.removeprefix("SIG")
        stopping.append(name)
        for host in hosts:
            threading.Thread(target=host.signal, args=(name,), daemon=True).start()

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    failed: tuple[_Host, int] | None = None
    while any(h.proc.poll() is None for h in hosts):
        if failed is None and not stopping and _failed(hosts):
            time.sleep(SETTLE_S)  # one host's death fails the others' collectives at once
            failed = max(_failed(hosts), key=lambda found: _blame(*found))
            _end_the_others(run_dir, hosts, *failed)
        time.sleep(0.2)
    for host in hosts:
        host.reader.join(timeout=5)
    if failed is None:
        bad = next(((h, h.proc.returncode) for h in hosts if h.proc.returncode), None)
        if bad is not None and not stopping:
            _record(run_dir, *bad)
        return 0 if bad is None else 1
    return 1


def _failed(hosts: Sequence[_Host]) -> list[tuple[_Host, int]]:
    return [(h, code) for h in hosts if (code := h.proc.poll()) not in (None, 0)]


def _blame(host: _Host, code: int) -> int:
    """Which failure caused the others: a killed engine or a dropped connection (2) over an
    engine that exited with an error (1), as the survivors do when a peer vanishes."""
    killed = (
        code == 255 or code > 128 or any("did not exit normally" in t for t in host.stderr_tail)
    )
    return 2 if killed else 1


def _end_the_others(run_dir: Path, hosts: Sequence[_Host], failed: _Host, code: int) -> None:
    _record(run_dir, failed, code)
    for host in hosts:
        if host is not failed:
            host.signal("TERM")
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline and any(h.proc.poll() is None for h in hosts):
        time.sleep(0.2)
    for host in hosts:
        host.signal("KILL")


def _record(run_dir: Path, host: _Host, code: int) -> None:
    reason = _failure(host, code)
    print(f"cockpit: host {host.name}: {reason}", file=sys.stderr, flush=True)
    with contextlib.suppress(OSError, RunMetaError):
        update_meta(run_dir / RUN_FILE, host_failed={"host": host.name, "reason": reason})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cockpit.runs.ssh_launch")
    parser.add_argument("run_dir", type=Path)
    return run(parser.parse_args(argv).run_dir)


if __name__ == "__main__":
    sys.exit(main())
