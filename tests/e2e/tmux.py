"""A real terminal for end-to-end tests: tmux with send-keys and capture-pane."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable


class TmuxTimeout(AssertionError):
    """The screen never showed what the test waited for; carries the last screen."""


class Tmux:
    """One detached tmux session running one command at a fixed size.

    Each session has its own tmux server (socket ``-L name``): a shared server that exits
    when its last session is killed races with the next test's new-session.
    """

    def __init__(self, command: str, width: int = 80, height: int = 24, env: dict | None = None):
        self.name = f"cockpit-e2e-{uuid.uuid4().hex[:8]}"
        self._tmux = ("tmux", "-L", self.name)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
        # -u COLUMNS/LINES: inherited from pytest's terminal they would override -x/-y.
        shell_cmd = f"env -u COLUMNS -u LINES {exports} {command}; echo '[exited '$?']'; sleep 600"
        subprocess.run(
            [
                *self._tmux,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
                shell_cmd,
            ],
            check=True,
        )

    @staticmethod
    def available() -> bool:
        return shutil.which("tmux") is not None

    def send(self, *keys: str) -> None:
        subprocess.run([*self._tmux, "send-keys", "-t", self.name, *keys], check=True)

    def screen(self, styled: bool = False) -> str:
        """The visible text; with ``styled`` also the colours (a highlight move shows)."""
        out = subprocess.run(
            [*self._tmux, "capture-pane", "-p", *(["-e"] if styled else []), "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def wait_until(
        self, predicate: Callable[[str], bool], timeout: float = 30.0, what: str = "condition"
    ) -> str:
        """Poll the screen until `predicate(screen)` holds; raise with the screen if not.

        Deadlines here are generous on purpose: they only end a test that has already
        failed, and on a busy 2-core machine (load 10) a place's first visit took over 5 s."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.05)
        raise TmuxTimeout(f"timed out waiting for {what}; screen was:\n{screen}")

    def press(self, key: str, timeout: float = 30.0) -> str:
        """Send one key and wait until the screen (colours included) reacts to it."""
        before = self.screen(styled=True)
        self.send(key)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            after = self.screen(styled=True)
            if after != before:
                return after
            time.sleep(0.02)
        raise TmuxTimeout(f"the screen did not react to {key!r}; it was:\n{self.screen()}")

    def type_into_prompt(self, text: str, placeholder: str) -> None:
        """Replace an input's text: clear it until its `placeholder` shows, then type.

        Keys sent before a dialog has focused its input are dropped (as they would be for
        a person typing that fast), so clearing is repeated until it took.
        """
        for _ in range(20):
            self.send("C-u")
            try:
                self.wait_for(placeholder, timeout=0.5)
            except TmuxTimeout:
                continue
            self.send(text)
            self.wait_for(text[-30:], timeout=5)
            return
        raise TmuxTimeout(f"the input never emptied; screen was:\n{self.screen()}")

    def escape_until(self, *texts: str, tries: int = 4) -> str:
        """Press Escape until `texts` show: a form's field takes the first Escape (or a
        dialog still closing does), the form the next; keys sent before the place has the
        focus again went to the form (seen on a busy machine)."""
        for _ in range(tries - 1):
            self.send("Escape")
            try:
                return self.wait_for(*texts, timeout=5)
            except TmuxTimeout:
                continue
        self.send("Escape")
        return self.wait_for(*texts)

    def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        return self.wait_until(lambda s: all(t in s for t in texts), timeout, f"{texts!r}")

    def close(self) -> None:
        subprocess.run([*self._tmux, "kill-server"], capture_output=True)
