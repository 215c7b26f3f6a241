"""Issue 3's walk in a real terminal: open a profile, change the batch size and watch the
verdict move, apply a suggestion, save, reopen the file and see the change."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from cockpit.profiles.store import CONFIG_DIR_ENV, list_profiles, load_profile_file
from tests.e2e.tmux import Tmux, TmuxTimeout
from tests.system_tools import need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
TABS_TO_BATCH_SIZE = 18  # name → description → engine → [model] 6 → [lora] 5 → [data] 4

pytestmark = pytest.mark.e2e


def _field(screen: str, key: str) -> str:
    match = re.search(rf"│ {key}\s+(\S+)", screen)
    return match.group(1) if match else ""


def _open(term: Tmux, name: str) -> None:
    """Highlight `name` in the profile list and open it, each move checked against the file
    path the place shows under the list (NAME.toml). On a loaded machine a Down sent as the
    place settled was once lost, and another took over 5 s to show: so each move is waited
    for as long as a key may take (30 s), and sent again only when it never showed."""
    names = [entry.name for entry in list_profiles()]

    def highlighted(screen: str) -> int | None:
        shown = [n for n in names if f"{n}.toml" in screen]
        return names.index(shown[0]) if len(shown) == 1 else None

    def now() -> int:
        return highlighted(term.wait_until(lambda s: highlighted(s) is not None, what="the list"))

    at, target = now(), names.index(name)
    while at != target:
        step = 1 if at < target else -1
        for _ in range(2):  # the key, then once more if it never showed
            term.send("Down" if step == 1 else "Up")
            try:
                term.wait_until(lambda s, want=at + step: highlighted(s) == want, what="a move")
                break
            except TmuxTimeout:
                continue
        at = now()
    term.send("Enter")
    term.wait_for(f"{name}.toml  saved")


def test_edit_apply_save_reopen(tmp_path, monkeypatch):
    need_tmux()
    config = tmp_path / "config"
    monkeypatch.setenv(CONFIG_DIR_ENV, str(config))  # list_profiles sees what cockpit sees
    env = {"TERM": "xterm-256color", "COCKPIT_CONFIG_DIR": str(config)}
    term = Tmux(f"{COCKPIT} --simulate rtx3050-4gb --place profiles", 120, 40, env)
    try:
        term.wait_for("rtx3050-4gb-llama-3.2-3b-qlora", "tight")
        _open(term, "rtx3050-4gb-llama-3.2-3b-qlora")
        term.wait_for("TIGHT", "read-only")
        for _ in range(TABS_TO_BATCH_SIZE):
            term.send("Tab")
        term.wait_until(lambda s: _field(s, "batch_size") == "1", what="batch_size field")
        term.send("C-a")
        term.send("C-k")
        term.wait_until(lambda s: "default 1" in s, what="batch_size emptied")
        term.send("6")  # 4 is "tight" now: the estimate's band straddles the card
        screen = term.wait_for("WON'T FIT", "unsaved changes")
        assert _field(screen, "batch_size") == "6"

        term.wait_until(lambda s: "Apply fix" in s, what="form bindings")
        term.send("C-f")  # applies the highlighted suggestion, even from inside a field
        screen = term.wait_until(
            lambda s: _field(s, "grad_accum") == "24" and "TIGHT" in s, what="suggestion applied"
        )
        assert _field(screen, "batch_size") == "1"

        term.send("C-s")
        term.wait_for("Save as a new profile")
        term.send("Enter")
        saved = config / "profiles" / "my-rtx3050-4gb-llama-3.2-3b-qlora.toml"
        term.wait_until(lambda s: saved.exists(), what=f"{saved} written")
        train = load_profile_file(saved).profile.train
        assert (train.batch_size, train.grad_accum) == (1, 24)  # the same effective batch

        # Escape leaves the field the save put the focus back in, then the form. "⏎ Open"
        # shows once the list has the focus: keys sent before that went to the form on its
        # way out, and the wrong profile opened (seen on a busy machine)
        term.escape_until("my-rtx3050-4gb-llama-3.2-3b-qlora", "user", "⏎ Open")
        term.press("Home")
        term.press("Down")
        term.press("Down")
        term.send("Enter")
        screen = term.wait_until(
            lambda s: (
                "my-rtx3050-4gb-llama-3.2-3b-qlora.toml" in s and _field(s, "grad_accum") == "24"
            ),
            what="the saved copy reopened",
        )
        assert "unsaved" not in screen
    finally:
        term.close()
