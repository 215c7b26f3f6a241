"""ssh for real, against the test sshd: the fixture's hosts behave as the fleet needs, and a
refused connection or a missing remote cockpit is told as a user reads it."""

from __future__ import annotations

import sys

import pytest

from cockpit.remote.ssh import SSH_CONFIG_ENV, remote_cockpit, run_remote

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
