"""cockpit in a real browser: `cockpit serve` driven by headless Chromium over CDP.

Used by tests/e2e/test_serve_browser.py and, run as a module, saves screenshots/browser.png:

    python -m tests.browser_shot

Only Chromium and what the venv has (aiohttp, from textual-serve): the DevTools protocol
over a websocket. textual-serve's page draws the terminal on a canvas, so the text is read
from xterm.js's buffer; the page keeps its Terminal in a closure, so a script run before
the page's own catches it as it is assigned to `.terminal`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "Chromium is not installed; .ci/run installs it: apt-get install -y chromium"

_CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true});
    if (value && typeof value.loadAddon === "function") window.__cockpitTerm = value;
  },
});
"""
_SCREEN_TEXT = """(() => {
  const term = window.__cockpitTerm;
  if (!term) return null;
  const buf = term.buffer.active, rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buf.getLine(buf.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
})()"""
# Painted, not just in the buffer: the page fades the terminal in, the canvas draws on a frame.
_PAINTED = """new Promise(done => {
  const shown = () => getComputedStyle(document.querySelector(".textual-terminal")).opacity;
  const frames = n => n ? requestAnimationFrame(() => frames(n - 1)) : done(shown());
  frames(2);
})"""


class BrowserTimeout(AssertionError):
    """The page never showed what was awaited; carries what it showed last."""


def find_chromium() -> str | None:
    """A Chromium-family browser on PATH ($COCKPIT_CHROMIUM first), or None."""
    for name in (os.environ.get("COCKPIT_CHROMIUM"), *CHROMIUM_NAMES):
        if name and (path := shutil.which(name)):
            return path
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, give it 5 s, then SIGKILL what is left (children too)."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)


def _printed_url(proc: subprocess.Popen, log: Path, timeout: float = 20.0) -> str:
    """The keyed URL `cockpit serve` prints in its banner (the page wants its key)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := re.search(r"open (http://\S+\?key=\S+) in a browser", log.read_text()):
            return found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"cockpit serve printed no URL with its key:\n{log.read_text()}")


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"cockpit serve exited {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"cockpit serve never answered {url}:\n{log.read_text()}")


@contextmanager
def served_cockpit(tui_args: list[str], scratch: Path) -> Iterator[tuple[str, Path]]:
    """`cockpit serve` on a free localhost port, with its own runs, config and cache dirs.

    Yields the URL it printed (with its key) and its output file; stops it and its sessions.
    """
    port = free_port()
    env = {
        **os.environ,
        "COCKPIT_RUNS_DIR": str(scratch / "runs"),
        "COCKPIT_CONFIG_DIR": str(scratch / "config"),
        "COCKPIT_CACHE_DIR": str(scratch / "cache"),
    }
    log = scratch / "serve.log"
    command = [sys.executable, "-m", "cockpit.cli.serve", "--port", str(port), *tui_args]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = _printed_url(proc, log)
        _wait_http(url, proc, log)
        yield url, log
    finally:
        _stop_group(proc)


def _chromium_argv(binary: str, profile: Path, size: tuple[int, int]) -> list[str]:
    argv = [
        binary,
        "--headless",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        # The page asks Google for a font: fail at once instead of waiting on a network.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "about:blank",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    return argv


@contextmanager
def headless_chromium(scratch: Path, size: tuple[int, int] = (1280, 800)) -> Iterator[int]:
    """Headless Chromium with remote debugging; yields its DevTools port."""
    binary = find_chromium()
    if binary is None:
        raise AssertionError(INSTALL_HINT)
    profile = scratch / "chromium-profile"
    log = scratch / "chromium.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            _chromium_argv(binary, profile, size),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield _devtools_port(profile / "DevToolsActivePort", proc, log)
    finally:
        _stop_group(proc)


def _devtools_port(
    port_file: Path, proc: subprocess.Popen, log: Path, timeout: float = 20.0
) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"Chromium exited {proc.returncode}:\n{log.read_text()}")
        lines = port_file.read_text().split("\n") if port_file.exists() else []
        if len(lines) >= 2 and lines[0].isdigit():
            return int(lines[0])
        time.sleep(0.05)
    raise AssertionError(f"Chromium never opened its DevTools port:\n{log.read_text()}")


class Page:
    """One Chromium tab driven over the DevTools protocol (replies only; events dropped)."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self._http = http
        self._ws = ws
        self._ids = itertools.count(1)

    @classmethod
    async def attach(cls, devtools_port: int) -> Page:
        http = aiohttp.ClientSession()
        async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as reply:
            targets = await reply.json()
        tab = next(t for t in targets if t["type"] == "page")
        ws = await http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0)
        return cls(http, ws)

    async def close(self) -> None:
        await self._ws.close()
        await self._http.close()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        await self._ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            reply = await asyncio.wait_for(self._ws.receive_json(), 30)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str, size: tuple[int, int] = (1280, 800)) -> None:
        """Load `url` in a `size` viewport, the terminal catcher run before its scripts."""
        width, height = size
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=_CATCH_TERMINAL)
        await self.call("Page.navigate", url=url)

    async def screen(self) -> str:
        """The terminal's visible rows as text ("" before the terminal exists)."""
        return await self.evaluate(_SCREEN_TEXT) or ""

    async def _no_terminal_hint(self) -> str:
        if await self.evaluate(_SCREEN_TEXT) is not None:
            return ""
        return "\n(no xterm.js Terminal was caught: has textual-serve's page changed?)"

    async def wait_for(self, *needles: str, timeout: float = 20.0) -> str:
        """Poll the screen until it shows every needle; raise with the last screen if not."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = await self.screen()
            if all(needle in screen for needle in needles):
                return screen
            await asyncio.sleep(0.05)
        hint = await self._no_terminal_hint()
        raise BrowserTimeout(f"timed out waiting for {needles}; the page showed:\n{screen}{hint}")

    async def wait_for_refreshes(self, count: int, timeout: float = 20.0) -> str:
        """Poll until the screen has changed `count` times (the live view refreshing)."""
        deadline = time.monotonic() + timeout
        screen, changes = await self.screen(), 0
        while changes < count:
            if time.monotonic() > deadline:
                raise BrowserTimeout(f"the screen changed {changes} times, not {count}")
            await asyncio.sleep(0.05)
            latest = await self.screen()
            changes, screen = changes + (latest != screen), latest
        return screen

    async def press(self, key: str) -> None:
        """Type one printable key into the focused terminal, as a keyboard would."""
        await self.evaluate("window.__cockpitTerm.focus()")
        code = f"Digit{key}" if key.isdigit() else f"Key{key.upper()}"
        common = {"key": key, "code": code, "windowsVirtualKeyCode": ord(key.upper())}
        await self.call("Input.dispatchKeyEvent", type="keyDown", text=key, **common)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **common)

    async def screenshot(self, path: Path, timeout: float = 10.0) -> None:
        """Save a PNG of the tab once the terminal is fully faded in and painted."""
        deadline = time.monotonic() + timeout
        while await self.evaluate(_PAINTED) != "1":
            if time.monotonic() > deadline:
                raise BrowserTimeout("the terminal never became fully visible")
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


async def _shoot(devtools_port: int, url: str, out: Path) -> None:
    page = await Page.attach(devtools_port)
    try:
        await page.open(url)
        await page.wait_for("SIMULATED", "RTX 3050", "RAM")
        await page.wait_for_refreshes(5)  # a few seconds of the util/VRAM history
        await page.screenshot(out)
    finally:
        await page.close()


def shoot(out: Path = ROOT / "screenshots" / "browser.png") -> Path:
    """Save a 1280x800 PNG of `cockpit serve --simulate rtx3050-4gb` in headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="cockpit-browser-") as tmp:
        scratch = Path(tmp)
        with (
            served_cockpit(["--simulate", "rtx3050-4gb"], scratch) as (url, _log),
            headless_chromium(scratch) as devtools_port,
        ):
            asyncio.run(_shoot(devtools_port, url, out))
    print(f"screenshots/{out.name}")
    return out


if __name__ == "__main__":
    shoot()
