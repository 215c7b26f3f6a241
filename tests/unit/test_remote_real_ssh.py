"""ssh for real, against the test sshd: the fixture's hosts behave as the fleet needs, and a
refused connection or a missing remote cockpit is told as a user reads it."""

from __future__ import annotations

import sys

import pytest

from cockpit.remote.fleet import Fleet
from cockpit.remote.ssh import SSH_CONFIG_ENV, remote_cockpit, run_remote
from cockpit.settings import Host
from tests.runs_helpers import wait_for

pytestmark = pytest.mark.slow


def test_localgpu_runs_a_command_with_the_fixtures_cockpit_folders(sshd_hosts):
    done = sshd_hosts.run(
        [sys.executable, "-c", "import os; print(os.environ['COCKPIT_RUNS_DIR'])"]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(sshd_hosts.remote_runs)


def test_a_refused_host_and_a_missing_cockpit_are_named_with_their_fix(sshd_hosts, monkeypatch):
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd_hosts.config))
    dead = run_remote(sshd_hosts.dead, ["true"], timeout=30).failure
    assert dead is not None
    assert dead.cause == f"ssh {sshd_hosts.dead}: nothing accepts ssh there (connection refused)"
    python = "/nonexistent/python"
    missing = run_remote(sshd_hosts.live, [*remote_cockpit(python), "watch"], python=python)
    assert missing.failure is not None
    assert missing.failure.cause == f"/nonexistent/python is not found on {sshd_hosts.live}"
    ok = run_remote(sshd_hosts.live, [*remote_cockpit(sys.executable), "--version"], timeout=60)
    assert ok.failure is None and ok.stdout.startswith("cockpit ")


def test_the_fleet_streams_a_live_host_and_names_a_dead_one(sshd_hosts, monkeypatch):
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd_hosts.config))
    live = Host(sshd_hosts.live, python=sys.executable, simulate="rtx3050-4gb")
    fleet = Fleet([live, Host(sshd_hosts.dead)], 0.5)
    fleet.start()
    try:
        wait_for(lambda: [s.state for s in fleet.states()] == ["up", "down"], 60, "both states")
        up, down = fleet.states()
        assert up.report is not None and up.report.simulated == "rtx3050-4gb"
        assert up.report.gpus[0].name == "NVIDIA GeForce RTX 3050 Laptop GPU"
        assert down.failure is not None and "connection refused" in down.failure.cause
        procs = [reader.proc for reader in fleet._readers]
    finally:
        fleet.close()
    assert all(proc.wait(timeout=10) is not None for proc in procs)  # every ssh has ended
