"""The fleet: one `cockpit watch --stream` over ssh per `[[hosts]]` machine, read into states.

Each host has a reader thread running `ssh HOST cockpit watch --stream` (or `PYTHON -m
cockpit …` when the host names its python). Its state is `connecting` until the first
line, `up` with the last report, `stale` when no line came for STALE_INTERVALS intervals,
or `down` with the cause and the fix (`cockpit.remote.ssh.ssh_failure`) while it waits to
try again: 1 s, doubling to 30 s, back to 1 s after a good line. `close()` ends every
stream and its ssh. No Textual here: the view polls `states()` and is told of changes
through `on_change` (called from the reader threads).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import IO, Literal, Protocol

from cockpit.hardware.simulated import SIMULATED_MACHINES
from cockpit.remote.ssh import SshFailure, remote_cockpit, ssh_argv, ssh_failure
from cockpit.remote.stream import MAX_LINE, HostReport, parse_line
from cockpit.settings import Host

StateName = Literal["connecting", "up", "stale", "down"]
STALE_INTERVALS = 3
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 30.0
CLOSE_WAIT_S = 3.0
_STDERR_KEPT = 8192


@dataclass(frozen=True)
class HostState:
    """What the fleet knows of one host now."""

    host: Host
    state: StateName = "connecting"
    report: HostReport | None = None
    """The last good line (kept while stale)."""
    failure: SshFailure | None = None
    """Why it is down."""
    since: float = 0.0
    """Clock time of the last line (up) or of the failure (down)."""
    retry_at: float | None = None
    """Clock time of the next try while down."""


class Proc(Protocol):
    """What a reader needs of the ssh process (`subprocess.Popen` in bytes mode)."""

    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


Spawn = Callable[[Sequence[str]], Proc]


def spawn(argv: Sequence[str]) -> Proc:
    """Start ssh with pipes on all three streams, out of the terminal's process group."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def stream_argv(host: Host, interval: float) -> list[str]:
    """The ssh command line that streams `host`'s snapshots."""
    remote = [*remote_cockpit(host.python), "watch", "--stream", "--interval", f"{interval:g}"]
    if host.simulate:
        remote += ["--simulate", host.simulate]
    return ssh_argv(host.target, remote)


class Fleet:
    """The readers of every host; `states()` is safe to call from any thread."""

    def __init__(
        self,
        hosts: Sequence[Host],
        interval: float = 1.0,
        *,
        spawn: Spawn = spawn,
        clock: Callable[[], float] = time.monotonic,
        retry: tuple[float, float] = (FIRST_RETRY_S, MAX_RETRY_S),
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.on_change = on_change
        self._lock = threading.Lock()
        self._states = {host.name: HostState(host) for host in hosts}
        self._stop = threading.Event()
        self._readers = [_Reader(self, host, spawn, retry) for host in hosts]

    def start(self) -> None:
        """Start one reader thread per host."""
        for reader in self._readers:
            reader.thread.start()

    def states(self) -> list[HostState]:
        """Every host's state, in the settings' order; `up` turns `stale` here."""
        now = self.clock()
        with self._lock:
            states = list(self._states.values())
        late = STALE_INTERVALS * self.interval
        return [replace(s, state="stale") if s.state == "up" and now - s.since > late else s
                for s in states]  # fmt: skip

    def close(self) -> None:
        """End every stream: stdin closed (the remote ends), ssh killed, threads joined."""
        self._stop.set()
        for reader in self._readers:
            reader.end()
        deadline = time.monotonic() + CLOSE_WAIT_S
        for reader in self._readers:
            if reader.thread.is_alive():
                reader.thread.join(max(0.0, deadline - time.monotonic()))

    def _set(self, state: HostState) -> None:
        with self._lock:
            self._states[state.host.name] = state
        if self.on_change is not None and not self._stop.is_set():
            self.on_change()


class _Reader:
    """One host's stream, reconnected with back-off until the fleet closes."""

    def __init__(self, fleet: Fleet, host: Host, spawn: Spawn, retry: tuple[float, float]):
        self.fleet, self.host, self.spawn = fleet, host, spawn
        self.first, self.cap = retry
        self.proc: Proc | None = None
        self.thread = threading.Thread(target=self.run, name=f"fleet-{host.name}", daemon=True)

    def run(self) -> None:
        fleet, delay = self.fleet, self.first
        while not fleet._stop.is_set():
            got_line, failure = self._attempt()
            if fleet._stop.is_set():
                return
            if got_line:
                delay = self.first
            now = fleet.clock()
            fleet._set(HostState(self.host, "down", None, failure, now, now + delay))
            if fleet._stop.wait(delay):
                return
            delay = min(delay * 2, self.cap)

    def _attempt(self) -> tuple[bool, SshFailure]:
        """One connection, read until it ends: whether a line came, and why it ended."""
        unknown = self._unknown_simulation()
        if unknown is not None:
            return False, unknown
        try:
            proc = self.proc = self.spawn(stream_argv(self.host, self.fleet.interval))
        except OSError as exc:
            fix = "install OpenSSH's client (apt-get install openssh-client)"
            return False, SshFailure(f"ssh cannot be started here: {exc.strerror or exc}", fix)
        if self.fleet._stop.is_set():  # closed while starting: end what was just started
            self.end()
        errors = _Tail(proc.stderr)
        got_line = self._read_lines(proc.stdout)
        code = proc.wait()
        errors.thread.join(CLOSE_WAIT_S)
        host = self.host
        failure = ssh_failure(host.target, code, errors.text(), name=host.name, python=host.python)
        return got_line, failure or SshFailure(
            f"the stream from {host.name} ended", f"run `ssh {host.target} true` to see why"
        )

    def _read_lines(self, stdout: IO[bytes] | None) -> bool:
        got_line = partial = False
        while stdout is not None:
            raw = stdout.readline(MAX_LINE)
            if not raw:
                return got_line
            whole = raw.endswith(b"\n")
            if not partial and whole:
                report = parse_line(raw.decode("utf-8", "replace"))
                if report is not None:
                    got_line = True
                    self.fleet._set(HostState(self.host, "up", report, since=self.fleet.clock()))
            partial = not whole  # the rest of an overlong line is skipped
        return got_line

    def _unknown_simulation(self) -> SshFailure | None:
        if not self.host.simulate or self.host.simulate in SIMULATED_MACHINES:
            return None
        names = ", ".join(sorted(SIMULATED_MACHINES))
        return SshFailure(
            f"simulate = {self.host.simulate!r} is not a simulated machine",
            f"set `simulate` of this host in [[hosts]] to one of {names}, or remove it",
        )

    def end(self) -> None:
        """Close the stream's stdin (the remote stream ends) and kill ssh."""
        proc = self.proc
        if proc is None:
            return
        for action in (lambda: proc.stdin and proc.stdin.close(), proc.kill):
            with contextlib.suppress(OSError):
                action()


class _Tail:
    """The last bytes a stream wrote, drained in a thread so its pipe never fills up."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        self._data = b""
        self.thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self.thread.start()

    def _drain(self, stream: IO[bytes] | None) -> None:
        while stream is not None:
            chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096)
            if not chunk:
                return
            self._data = (self._data + chunk)[-_STDERR_KEPT:]

    def text(self) -> str:
        return self._data.decode("utf-8", "replace")
