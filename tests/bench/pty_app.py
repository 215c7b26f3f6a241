"""An app on a pseudo-terminal of its own, for latencies timed without tmux between.

Through tmux, `send-keys` and each `capture-pane` poll start a tmux client and tmux redraws
its own copy of the screen. Here the key is written to the terminal and the clock stops
when the app has written the text that only the new frame holds: the app's own time from
the key to its frame, a check on what the tmux figures include.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence


class PtyApp:
    """One full-screen program on its own pty of `width` × `height`."""

    def __init__(
        self, argv: Sequence[str], env: Mapping[str, str], width: int = 80, height: int = 24
    ) -> None:
        self._fd, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        self._proc = subprocess.Popen(
            list(argv),
            stdin=child,
            stdout=child,
            stderr=child,
            env={**environ, **env},
            start_new_session=True,
        )
        os.close(child)
        self._seen = b""

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """Seconds until the app writes `text` (counting output since the last call)."""
        start = time.monotonic()
        needle = text.encode()
        while needle not in self._seen:
            left = timeout - (time.monotonic() - start)
            if left <= 0 or self._proc.poll() is not None:
                tail = self._seen[-2000:].decode(errors="replace")
                raise AssertionError(f"{text!r} never written (exit {self._proc.poll()}): {tail}")
            if select.select([self._fd], [], [], left)[0]:
                self._seen += os.read(self._fd, 1 << 16)
        self._seen = b""
        return time.monotonic() - start

    def settle(self, quiet_s: float = 0.15) -> None:
        """Read until the app has written nothing for `quiet_s` (a frame in flight is not
        taken for the next key's)."""
        while self._proc.poll() is None and select.select([self._fd], [], [], quiet_s)[0]:
            os.read(self._fd, 1 << 16)
        self._seen = b""

    def key_to_text(self, key: str, text: str) -> float:
        """Seconds from writing `key` until the app has written `text`."""
        self.settle()
        start = time.monotonic()
        os.write(self._fd, key.encode())
        self.wait_for(text)
        return time.monotonic() - start

    def close(self) -> None:
        if self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        os.close(self._fd)
