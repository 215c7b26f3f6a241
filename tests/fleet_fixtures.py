"""Runs and host states for the fleet tests: a run that is really alive on this machine,
and the fixed host states the fleet view's snapshots and screenshot show."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cockpit.hardware.sampler import HardwareSampler
from cockpit.hardware.simulated import SimulatedSource
from cockpit.remote.fleet import HostState
from cockpit.remote.ssh import ssh_failure
from cockpit.remote.stream import HostReport, parse_line, stream_line
from cockpit.settings import Host
from engines.protocol import EVENTS_FILE, RUN_FILE
from tests.compare_fixtures import T0
from tests.ui.cockpit_snapshot_app import TRAINING_S, FixedHost, SteppedClock


@contextmanager
def live_run(
    root: Path, run_id: str, *, step: int, total: int, loss: float, profile: str = "qlora-3b"
) -> Iterator[Path]:
    """A run "running" on this machine while the block lasts: its pid is a stand-in process
    whose command line names the run (as an engine's does), its events at `step`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()", run_id], stdin=subprocess.PIPE
    )
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    events = [{"kind": "start", "t": T0, "steps": total, "engine": "sft"}]
    events += [{"kind": "step", "t": T0 + s, "step": s, "loss": loss} for s in range(1, step + 1)]
    (run_dir / EVENTS_FILE).write_text("".join(json.dumps(e) + "\n" for e in events))
    meta = {"id": run_id, "profile": profile, "engine": "sft", "created": T0, "started": T0,
            "pid": holder.pid, "host": socket.gethostname()}  # fmt: skip
    (run_dir / RUN_FILE).write_text(json.dumps(meta))
    try:
        yield run_dir
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


FLEET_NOW = 5_000.0
"""The fixed fleet's clock: what its states' times are measured against."""
LIVE_RUN = {"id": "qlora-3b-0412", "profile": "qlora-3b", "status": "running", "step": 70,
            "total_steps": 120, "last_loss": 1.2345}  # fmt: skip
FLEET_HOSTS = (
    Host("localgpu", python="/opt/cockpit/bin/python", simulate="rtx3050-4gb"),
    Host("a100-box", ssh="me@a100-box.lab", simulate="2x-a100-40gb"),
    Host("deadhost"),
)


def simulated_report(machine: str, hostname: str, runs: list[dict]) -> HostReport:
    """What a host streaming `machine` (simulated, mid-run, fixed host values) reports:
    built and read through the stream line, as the fleet gets it."""
    clock = SteppedClock()
    sampler = HardwareSampler(
        SimulatedSource(machine, clock, start_s=TRAINING_S), FixedHost(clock), wall_clock=clock
    )
    line = stream_line(hostname, "0.1.0", sampler.sample().to_json(), runs)
    report = parse_line(line)
    assert report is not None
    return report


def fleet_states() -> list[HostState]:
    """A fleet mid-run: a 3050 laptop training, two A100s idle, a host refusing ssh."""
    live, a100, dead = FLEET_HOSTS
    refused = ssh_failure(
        "deadhost", 255, "ssh: connect to host 10.0.0.7 port 22: Connection refused"
    )
    return [
        HostState(
            live, "up", simulated_report("rtx3050-4gb", "laptop", [LIVE_RUN]), since=FLEET_NOW
        ),
        HostState(a100, "up", simulated_report("2x-a100-40gb", "a100-box", []), since=FLEET_NOW),
        HostState(dead, "down", failure=refused, since=FLEET_NOW - 8, retry_at=FLEET_NOW + 8),
    ]


class FixedFleet:
    """A fleet that always reports the same states (snapshots, screenshots)."""

    def __init__(self, states: list[HostState], now: float = FLEET_NOW) -> None:
        self._states = states
        self.clock = lambda: now
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def states(self) -> list[HostState]:
        return list(self._states)

    def close(self) -> None:
        self.closed = True


def fixed_fleet_factory(states: list[HostState]):
    """A fleet factory for `make_app` that hands out one FixedFleet (kept as `.fleet`)."""

    def factory(hosts, interval, on_change) -> FixedFleet:
        factory.fleet = FixedFleet(states)
        return factory.fleet

    return factory
