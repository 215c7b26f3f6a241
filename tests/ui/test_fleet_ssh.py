"""The fleet view for real: two [[hosts]], one a simulated GPU machine streamed over ssh from
the test sshd, one refusing ssh; the view shows the first's GPUs and the second's cause and
fix, and every ssh ends with the app."""

from __future__ import annotations

import sys

import pytest

from cockpit.remote.ssh import SSH_CONFIG_ENV
from cockpit.settings import Host
from tests.runs_helpers import wait_for as wait_until
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle, wait_for

pytestmark = pytest.mark.slow
SSH_S = 60.0
"""Generous: ssh, a Python start and the first sample on a loaded 2-core machine."""


async def test_fleet_of_a_live_and_a_dead_host(sshd_hosts, monkeypatch):
    monkeypatch.setenv(SSH_CONFIG_ENV, str(sshd_hosts.config))
    hosts = (
        Host(sshd_hosts.live, python=sys.executable, simulate="2x-a100-40gb"),
        Host(sshd_hosts.dead),
    )
    app = make_app(hosts=hosts)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        shown = lambda: screen_text(app)  # noqa: E731
        await wait_for(pilot, lambda: f"{sshd_hosts.live} · up" in shown(), SSH_S)
        await wait_for(pilot, lambda: f"{sshd_hosts.dead} · down" in shown(), SSH_S)
        text = shown()
        assert "SIMULATED 2x-a100-40gb" in text
        assert text.count("NVIDIA A100-SXM4-40GB") == 2 and "/40.0 GiB" in text
        assert f"ssh {sshd_hosts.dead}: nothing accepts ssh there (connection refused)" in text
        assert "fix: start sshd on it" in text
        fleet = app.screen._fleet
        procs = [reader.proc for reader in fleet._readers if reader.proc is not None]
    wait_until(lambda: all(p.poll() is not None for p in procs), 10, "every ssh to end")
