"""`cockpit runs --all-hosts` for real: this machine's runs and those of a host reached
through the test sshd, a HOST column, and an unreachable host named with its cause and fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from cockpit.settings import Host, Settings, save_settings
from tests.compare_fixtures import write_run

pytestmark = pytest.mark.slow


@pytest.fixture
def two_hosts(tmp_path, sshd_hosts):
    """Settings naming localgpu and deadhost; one run here, one there; the env to run in."""
    save_settings(
        Settings(hosts=(Host(sshd_hosts.live, python=sys.executable), Host(sshd_hosts.dead))),
        tmp_path / "config" / "settings.toml",
    )
    remote_id = f"remote-{uuid.uuid4().hex[:8]}"  # the sshd is shared: a run of our own
    write_run(sshd_hosts.remote_runs, remote_id, lr=1e-4)
    write_run(tmp_path / "runs", "here-1", lr=2e-4)
    env = {**os.environ, **sshd_hosts.env, "COCKPIT_CONFIG_DIR": str(tmp_path / "config"),
           "COCKPIT_RUNS_DIR": str(tmp_path / "runs")}  # fmt: skip
    return env, remote_id


def _runs(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "runs", "--all-hosts", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_table_has_every_hosts_runs_and_names_the_unreachable_one(two_hosts, sshd_hosts):
    env, remote_id = two_hosts
    done = _runs(env)
    assert done.returncode == 1  # a host was not read
    header, *rows = done.stdout.splitlines()
    assert header.split()[:3] == ["HOST", "ID", "PROFILE"]
    hosts_of = {row.split()[1]: row.split()[0] for row in rows}
    assert hosts_of["here-1"] == "local" and hosts_of[remote_id] == sshd_hosts.live
    assert "finished" in next(row for row in rows if remote_id in row)
    assert (
        f"{sshd_hosts.dead}: not read: ssh {sshd_hosts.dead}: nothing accepts ssh there "
        "(connection refused); start sshd on it" in done.stderr
    )


def test_json_carries_the_host_of_each_run_and_each_hosts_state(two_hosts, sshd_hosts):
    env, remote_id = two_hosts
    done = _runs(env, "--json")
    listed = json.loads(done.stdout)
    hosts_of = {run["id"]: run["host"] for run in listed["runs"]}
    assert hosts_of["here-1"] == "local" and hosts_of[remote_id] == sshd_hosts.live
    live, dead = listed["hosts"]
    assert live == {"name": sshd_hosts.live, "ssh": sshd_hosts.live, "ok": True}
    assert dead["ok"] is False and "connection refused" in dead["cause"]
