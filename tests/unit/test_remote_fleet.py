"""The fleet's readers on fake ssh processes (pipes in this process): a line makes a host
up, silence makes it stale, a failed ssh makes it down with its cause and fix, and retries
back off 1 s → 30 s, starting over after a good line."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time

from cockpit.remote.fleet import Fleet, stream_argv
from cockpit.remote.stream import stream_line
from cockpit.settings import Host

SNAPSHOT = {
    "nvml": {"available": True, "simulated": "rtx3050-4gb"},
    "gpus": [{"index": 0, "name": "RTX 3050", "memory_used_bytes": 3 * 2**30,
              "memory_total_bytes": 4 * 2**30, "utilization_pct": 97.0}],
    "host": {"cpu_pct": 12.5},
}  # fmt: skip
LINE = stream_line("gpu-box", "0.1.0", SNAPSHOT, [{"id": "r1", "status": "running", "step": 7}])
REFUSED = b"ssh: connect to host 127.0.0.1 port 1: Connection refused\n"


class FakeProc:
    """An ssh that printed `lines` then exited with `code` (or stays open with `hold`)."""

    def __init__(self, lines: list[str], code: int = 255, stderr: bytes = b"", hold=False):
        read, write = os.pipe()
        self.stdout = os.fdopen(read, "rb")
        self._write = os.fdopen(write, "wb")
        self._fed = threading.Thread(target=self._feed, args=("".join(lines), hold), daemon=True)
        self._fed.start()
        self.stderr = io.BytesIO(stderr)
        self.stdin = io.BytesIO()
        self.code = code
        self.killed = threading.Event()

    def _feed(self, text: str, hold: bool) -> None:
        """Write the lines from a thread: more than a pipe holds would block the test."""
        with contextlib.suppress(OSError, ValueError):
            self._write.write(text.encode())
            self._write.flush()
            if not hold:
                self._write.close()

    def wait(self, timeout=None) -> int:
        return self.code

    def kill(self) -> None:
        self.killed.set()
        if not self._write.closed:
            self._write.close()


class Script:
    """A spawn giving each attempt the next fake process, the last one again after."""

    def __init__(self, *procs: FakeProc) -> None:
        self.procs = list(procs)
        self.argvs: list[list[str]] = []

    def __call__(self, argv):
        self.argvs.append(list(argv))
        return self.procs.pop(0) if len(self.procs) > 1 else self.procs[0]


def _until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_line_brings_the_host_up_and_silence_makes_it_stale():
    now = [100.0]
    proc = FakeProc([LINE], hold=True)
    fleet = Fleet(
        [Host("gpu-box", python="/opt/py")], 2.0, spawn=Script(proc), clock=lambda: now[0]
    )
    assert fleet.states()[0].state == "connecting"
    fleet.start()
    try:
        _until(lambda: fleet.states()[0].state == "up")
        report = fleet.states()[0].report
        assert report is not None and report.gpus[0].utilization_pct == 97.0
        assert [r.id for r in report.runs] == ["r1"]
        now[0] += 6.5  # three intervals of 2 s without a line
        state = fleet.states()[0]
        assert state.state == "stale" and state.report == report  # the last values stay shown
    finally:
        fleet.close()
    assert proc.killed.is_set()


def test_a_refused_host_is_down_with_its_fix_and_retries_back_off_to_a_cap():
    seen: list = []
    script = Script(FakeProc([], stderr=REFUSED))
    fleet = Fleet([Host("deadhost")], spawn=script, retry=(0.001, 0.008))
    fleet.on_change = lambda: seen.append(fleet.states()[0])
    fleet.start()
    _until(lambda: len(seen) >= 6)
    fleet.close()
    down = seen[0]
    assert down.state == "down" and down.report is None
    assert down.failure.cause == "ssh deadhost: nothing accepts ssh there (connection refused)"
    assert "start sshd" in down.failure.fix
    waits = [round(s.retry_at - s.since, 3) for s in seen[:6]]
    assert waits == [0.001, 0.002, 0.004, 0.008, 0.008, 0.008]


def test_the_back_off_starts_over_after_a_good_line():
    seen: list = []
    script = Script(
        FakeProc([], stderr=REFUSED), FakeProc([], stderr=REFUSED),
        FakeProc([LINE], stderr=b"Connection to gpu-box closed by remote host.\n"),
        FakeProc([], stderr=REFUSED),
    )  # fmt: skip
    fleet = Fleet([Host("gpu-box")], spawn=script, retry=(0.001, 0.008))
    fleet.on_change = lambda: seen.append(fleet.states()[0])
    fleet.start()
    _until(lambda: len(seen) >= 6)
    fleet.close()
    assert [s.state for s in seen[:5]] == ["down", "down", "up", "down", "down"]
    assert [round(s.retry_at - s.since, 3) for s in seen if s.state == "down"][:4] == [
        0.001, 0.002, 0.001, 0.002
    ]  # fmt: skip
    assert "closed by remote host" in seen[3].failure.cause


def test_noise_and_an_overlong_line_are_skipped_and_a_missing_cockpit_is_named():
    noise = ["Welcome to gpu-box!\n", "x" * (5 * 2**20) + LINE, LINE]
    proc = FakeProc(noise, code=127, stderr=b"bash: line 1: cockpit: command not found\n")
    seen: list = []
    fleet = Fleet([Host("gpu-box")], spawn=Script(proc), retry=(5.0, 5.0))
    fleet.on_change = lambda: seen.append(fleet.states()[0])
    fleet.start()
    _until(lambda: len(seen) >= 2)
    fleet.close()
    assert [s.state for s in seen] == ["up", "down"]  # one good line of three
    assert seen[1].failure.cause == "cockpit is not installed for gpu-box (not on its PATH)"


def test_an_unknown_simulation_is_told_without_connecting():
    script = Script(FakeProc([]))
    fleet = Fleet([Host("demo", simulate="rtx9999")], spawn=script, retry=(5.0, 5.0))
    fleet.start()
    _until(lambda: fleet.states()[0].state == "down")
    fleet.close()
    failure = fleet.states()[0].failure
    assert "'rtx9999' is not a simulated machine" in failure.cause
    assert "rtx3050-4gb" in failure.fix and script.argvs == []


def test_the_stream_command_names_the_python_interval_and_simulation():
    argv = stream_argv(Host("gpu", ssh="me@gpu", python="/opt/py", simulate="t4-16gb"), 2.0)
    assert argv[-2] == "me@gpu"
    assert argv[-1] == "/opt/py -m cockpit watch --stream --interval 2 --simulate t4-16gb"
