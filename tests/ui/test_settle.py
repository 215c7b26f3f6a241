"""settle() waits for what the screen will show, also when the machine is busy.

Under CPU contention Textual's ``pilot.pause()`` judges the app idle too early: it compares
the process's CPU time with the wall clock, and a process that gets no CPU looks idle. The
snapshot tests then caught the Hardware place half laid out (a truncated process command,
a missing first sample) whenever the suite ran beside other work.
"""

from __future__ import annotations

import asyncio

import pytest
import textual.pilot

from cockpit.tui.widgets.process_table import ProcessTable
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle


async def _starved(*_args: float) -> None:
    """pause()'s idle check where this process gets no CPU: after its first 1/50 s sleep it
    sees almost no CPU time used, so it calls the app idle."""
    await asyncio.sleep(1 / 50)


@pytest.mark.parametrize(("gpu", "size"), [("2x-a100-40gb", (200, 50)), ("rtx3050-4gb", (80, 24))])
async def test_settle_leaves_nothing_for_the_next_frame_on_a_busy_machine(
    monkeypatch, gpu: str, size: tuple[int, int]
):
    monkeypatch.setattr(textual.pilot, "wait_for_idle", _starved)
    app = make_app(gpu=gpu, seed_history_s=59)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        settled = screen_text(app)
        for _ in range(5):
            await pilot.pause(0.05)
        assert screen_text(app) == settled


async def test_the_process_command_gets_the_tables_width_when_no_resize_follows(monkeypatch):
    """The first sample fills the table before its first layout (width 0). Textual does
    not always follow that with a Resize: the command stayed cut to 12 cells until the next
    sample (up to refresh_s, 60 s at most), and the snapshot tests flaked on it."""
    monkeypatch.setattr(ProcessTable, "on_resize", lambda self, event: None)  # the lost one
    app = make_app(seed_history_s=59)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "python -m engines" in screen_text(app)
