"""The real `cockpit` in a real terminal (tmux), driven by keys only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e.tmux import Tmux
from tests.system_tools import need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
ENV = {"TERM": "xterm-256color"}

pytestmark = pytest.mark.e2e


@pytest.fixture
def terminal(request):
    need_tmux()
    sessions: list[Tmux] = []

    def _open(args: str = "", width: int = 80, height: int = 24) -> Tmux:
        term = Tmux(f"{COCKPIT} {args}", width, height, ENV)
        sessions.append(term)
        return term

    yield _open
    for term in sessions:
        term.close()


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_places_switch_and_no_gpu_panel(terminal, size):
    term = terminal(width=size[0], height=size[1])
    screen = term.wait_for("Hardware", "NVML")
    assert "Traceback" not in screen
    assert "--simulate" in screen  # the no-GPU panel says how to explore anyway
    term.wait_for("RAM")  # the host pane is live without a GPU

    term.send("2")
    term.wait_for("Doctor")
    term.wait_until(lambda s: "fail" in s or "warn" in s or "ok" in s, 30, "doctor findings")
    for key, text in (("3", "Profiles"), ("4", "Runs"), ("5", "Logs"), ("1", "NVML")):
        term.send(key)
        term.wait_for(text)
    term.send("q")
    term.wait_for("[exited 0]")


def test_simulated_card_is_labelled_and_moves(terminal):
    term = terminal("--simulate rtx3050-4gb", 80, 24)
    first = term.wait_for("SIMULATED", "3050")
    assert "4.0 GiB" in first
    term.wait_until(lambda s: s != first and "SIMULATED" in s, 10, "the card to move")
    term.send("?")
    term.wait_for("Keys ·", "quits")
    term.send("Escape")
    term.wait_until(lambda s: "Keys ·" not in s, 5, "help to close")
    term.send("q")
    term.wait_for("[exited 0]")
