"""`cockpit watch --stream`, the real command: a JSON line per interval with the snapshot, the
host and its active runs, until its reader closes stdin or stdout, or SIGTERM; always exit 0,
without a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from cockpit.remote.stream import PROTOCOL, parse_line
from tests.compare_fixtures import write_run
from tests.fleet_fixtures import live_run

pytestmark = pytest.mark.slow
EXIT_S = 20.0


def _stream(tmp_path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "COCKPIT_RUNS_DIR": str(tmp_path / "runs"),
           "COCKPIT_CONFIG_DIR": str(tmp_path / "config")}  # fmt: skip
    argv = [sys.executable, "-m", "cockpit", "watch", "--stream", "--interval", "0.2", *extra]
    return subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def test_lines_carry_the_snapshot_the_host_and_its_active_runs(tmp_path):
    write_run(tmp_path / "runs", "qlora-done", lr=1e-4)
    with live_run(tmp_path / "runs", "qlora-live", step=70, total=120, loss=1.25):
        proc = _stream(tmp_path, "--simulate", "2x-a100-40gb")
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        proc.stdin.close()  # what ssh does when the connection goes: the stream ends at once
        assert proc.wait(timeout=EXIT_S) == 0
    assert proc.stderr.read() == b""
    first, second = (json.loads(line) for line in lines)
    assert first["protocol"] == PROTOCOL and first["host"] == socket.gethostname()
    assert second["snapshot"]["t"] > first["snapshot"]["t"]  # one line per interval
    report = parse_line(lines[1].decode())
    assert report is not None and report.simulated == "2x-a100-40gb"
    assert [gpu.name for gpu in report.gpus] == ["NVIDIA A100-SXM4-40GB"] * 2
    assert [(r.id, r.status, r.step, r.total_steps) for r in report.runs] == [
        ("qlora-live", "running", 70, 120)
    ]  # the finished run is not on the host any more


def test_a_reader_that_goes_away_ends_it_quietly(tmp_path):
    proc = _stream(tmp_path)
    assert proc.stdout.readline().startswith(b'{"protocol"')
    proc.stdout.close()  # the reader left: the next line hits a broken pipe
    assert proc.wait(timeout=EXIT_S) == 0
    assert b"Traceback" not in proc.stderr.read()


def test_sigterm_ends_it_with_exit_0(tmp_path):
    proc = _stream(tmp_path)
    assert proc.stdout.readline()
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=EXIT_S) == 0
    assert time.monotonic() - started < EXIT_S
    assert proc.stderr.read() == b""
