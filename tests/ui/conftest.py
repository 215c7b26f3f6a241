"""Helpers for the Pilot and snapshot tests of the cockpit TUI.

``async def`` tests run on a fresh asyncio loop each (no pytest-asyncio/anyio needed).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from cockpit.runs.store import RUNS_DIR_ENV
from tests.ui.cockpit_snapshot_app import FakeDoctor


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """An input's cursor stays shown instead of blinking every 0.5 s: a snapshot taken on a
    loaded machine otherwise caught it off as often as on (the Settings dialog's did)."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture(autouse=True)
def _no_user_runs(tmp_path_factory, monkeypatch):
    """The Logs place opens the newest run's log: never the developer's own runs."""
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path_factory.mktemp("no-runs") / "runs"))


def screen_text(app: App) -> str:
    """What the terminal shows right now, as plain text (one line per row)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


SETTLE_ROUNDS = 100
"""Rounds settle() tries before giving up on a screen that keeps changing (an animation)."""


async def settle(pilot: Pilot) -> None:
    """Wait until the app has nothing left to do that the screen would show: its workers
    done, the messages they posted handled, the layout they caused drawn (one more round
    changes nothing on screen), and a cockpit app's first hardware sample in.

    Counted in rounds of work, not time: ``pilot.pause()`` alone returns early on a busy
    machine (it calls a process idle when it used little CPU, and a starved one does).
    """
    app = pilot.app
    shown = None
    for _ in range(SETTLE_ROUNDS):
        await app.workers.wait_for_complete()
        await pilot.pause()
        now = screen_text(app)
        if now == shown and getattr(app, "snapshot", True) is not None:
            return
        shown = now


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 15) -> None:
    """Let the app run until ``condition()`` holds (and repaint); fail with the screen if not."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the screen was:\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)
    await pilot.pause()


@pytest.fixture
def doctor() -> FakeDoctor:
    return FakeDoctor()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run coroutine test functions with ``asyncio.run``."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True
