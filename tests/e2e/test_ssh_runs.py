"""Issue 17's ssh runs for real: a run on two "hosts" (two names of a real sshd on 127.0.0.1,
tests/sshd.py), one `accelerate launch` on each over ssh, meeting by gloo on 127.0.0.1.

- it trains to the end: one event stream (rank 0's), world size 2, and each host's own log
  shows that host's rank training;
- `cockpit stop` reaches both hosts' engines: it ends `stopped`, no engine left behind;
- killing one host's engine ends the run `crashed`, naming that host.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cockpit.runs.preflight import preflight
from cockpit.runs.store import summarize_dir
from cockpit.runs.supervisor import resume_run, start_run, stop_run
from tests.remote_runs import demo_profile, remote_env, wait_summary
from tests.sshd import LIVE, LIVE_TOO, SshHosts

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _profile(tmp_path: Path, steps: int) -> Path:
    launch = f'where = "ssh"\nhosts = ["{LIVE}", "{LIVE_TOO}"]\ngpus_per_host = 0\n'
    path = demo_profile(tmp_path / "two-hosts.toml", steps, launch + f"port = {_free_port()}\n")
    # the same interpreter on each host
    path.write_text(path.read_text().replace('python = ""', f'python = "{sys.executable}"'))
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sshd_hosts: SshHosts) -> dict:
    yield remote_env(tmp_path, monkeypatch, sshd_hosts.env)
    _kill_engines(tmp_path / "runs")


def _engines(runs: Path) -> list[int]:
    """Engine processes of this test's runs, on any "host" (they all run here)."""
    found = subprocess.run(["pgrep", "-f", f"engines run {runs}"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _kill_engines(runs: Path) -> None:
    for pid in _engines(runs):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _events(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("kind") == kind]


def test_two_hosts_train_one_run_to_the_end(env, tmp_path):
    run = start_run(_profile(tmp_path, steps=12))
    final = wait_summary(lambda: summarize_dir(run), lambda s: not s.active, timeout=240)
    assert final.status == "finished", (final, (run.path / "output.log").read_text()[-2000:])
    (start,) = _events(run.path, "start")
    assert start["world_size"] == 2
    assert [s["step"] for s in _events(run.path, "step")] == list(range(1, 13))  # written once
    for host in (LIVE, LIVE_TOO):  # each host's rank trained, in that host's own log
        log = (run.path / "hosts" / f"{host}.log").read_text()
        assert "'train_runtime'" in log, (host, log[-2000:])
    meta = json.loads((run.path / "run.json").read_text())
    assert [h["host"] for h in meta["ssh_hosts"]] == [LIVE, LIVE_TOO]
    assert "--machine_rank 1" in meta["command_text"]


def test_stop_reaches_every_host_and_resume_goes_on_from_the_checkpoint(env, tmp_path):
    profile = _profile(tmp_path, steps=60)
    profile.write_text(re.sub(r"save_steps = \d+", "save_steps = 5", profile.read_text()))
    run = start_run(profile)
    wait_summary(lambda: summarize_dir(run), lambda s: (s.step or 0) >= 6, timeout=240)
    assert len(_engines(tmp_path / "runs")) >= 2  # one launcher (and its rank) per host
    stopped = stop_run(run.id, grace_s=90, term_s=20)
    assert stopped.status == "stopped", stopped
    assert stopped.last_checkpoint
    deadline = time.monotonic() + 30
    while _engines(tmp_path / "runs"):
        assert time.monotonic() < deadline, "an engine outlived the stop"
        time.sleep(0.2)
    resume_run(run.id)
    final = wait_summary(lambda: summarize_dir(run), lambda s: not s.active, timeout=300)
    assert final.status == "finished" and final.step == 60, final
    assert _events(run.path, "start")[-1]["resumed_from"]


def test_killing_one_hosts_engine_ends_the_run_crashed_naming_it(env, tmp_path):
    run = start_run(_profile(tmp_path, steps=100_000))
    wait_summary(lambda: summarize_dir(run), lambda s: (s.step or 0) >= 3, timeout=240)
    # rank 1's launcher, as "host" localgpu2 runs it: a session of its own (setsid), so its
    # process group is its rank and nothing else
    rank1 = [
        proc.pid
        for proc in psutil.process_iter(["cmdline"])
        if (cmd := proc.info["cmdline"] or [])[:1] == [sys.executable]
        and "accelerate.commands.launch" in cmd
        and cmd[cmd.index("--machine_rank") + 1] == "1"
        and str(run.path) in cmd
    ]
    assert len(rank1) == 1, "rank 1's launcher is running"
    launcher = psutil.Process(rank1[0])
    for proc in [launcher, *launcher.children(recursive=True)]:  # its rank too: the host died
        proc.kill()
    # the survivor's own end ("failed": its peer vanished) comes first; the supervisor's
    # verdict once every host is done
    final = wait_summary(lambda: summarize_dir(run), lambda s: s.exit_code is not None, timeout=120)
    assert final.status == "crashed", final
    assert re.match(rf"host {LIVE_TOO}: its engine was killed \(SIGKILL\)", final.reason), (
        final.reason
    )


def test_preflight_refuses_a_host_that_is_down_with_the_fix(env, tmp_path, sshd_hosts):
    profile = _profile(tmp_path, steps=5)
    profile.write_text(profile.read_text().replace(f'"{LIVE_TOO}"', f'"{sshd_hosts.dead}"'))
    check = preflight(profile)
    assert not check.ok
    (refusal,) = check.refusals
    assert refusal.key == "launch.hosts"
    assert "connection refused" in refusal.message and "sshd" in refusal.fix
    assert not (tmp_path / "runs").exists() or not any(
        p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")
    )


def test_dry_run_prints_each_hosts_command_and_starts_nothing(env, tmp_path):
    cockpit = str(Path(sys.executable).parent / "cockpit")
    done = subprocess.run(
        [cockpit, "train", str(_profile(tmp_path, steps=5)), "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"# rank 0 on {LIVE}" in done.stdout and f"# rank 1 on {LIVE_TOO}" in done.stdout
    commands = [line for line in done.stdout.splitlines() if line.startswith("ssh ")]
    assert len(commands) == 2
    assert "--machine_rank 0" in commands[0] and "--machine_rank 1" in commands[1]
    assert not _engines(tmp_path / "runs")
    assert not [p for p in (tmp_path / "runs").glob("*") if not p.name.startswith(".")]
