"""Issue 14's walk in a real terminal: pick a profile in Data, see rows cut at
max_seq_length, open one of them, raise max_seq_length in Profiles, come back to Data and
see the check run again with nothing cut.

The real engine checks the data (the tiny demo model's tokenizer, built once into the
session's cache).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.datacheck_fixtures import engine_cache, write_broken_case  # noqa: F401
from tests.e2e.tmux import Tmux, TmuxTimeout
from tests.system_tools import need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
TABS_TO_MAX_SEQ_LENGTH = 7  # from the name: description → engine → [model] 5
CHECK_S = 240.0

pytestmark = pytest.mark.e2e


def _field(screen: str, key: str) -> str:
    match = re.search(rf"│ {key}\s+(\S+)", screen)
    return match.group(1) if match else ""


def _highlight_second_profile(term: Tmux) -> None:
    """Home, then Down, each confirmed by the path shown under the list: the list's first
    profile is the shipped tiny-demo-cpu, the second `broken` (a user profile, its path in
    the test's folder), the third the shipped lora-r8-smoke-test. Once in a few hundred
    runs on a loaded machine a key sent as the place appeared changed nothing, and Enter
    then opened the first profile; a key that did not take is sent again."""
    for _ in range(5):
        term.send("Home")
        try:
            term.wait_for("tiny-demo-cpu.toml", timeout=5)
        except TmuxTimeout:
            continue
        term.send("Down")
        try:
            term.wait_until(
                lambda s: "tiny-demo-cpu.toml" not in s and "lora-r8-smoke-test.toml" not in s,
                timeout=5,
                what="the second profile highlighted",
            )
            return
        except TmuxTimeout:
            continue
    raise TmuxTimeout(f"the list never highlighted its second profile:\n{term.screen()}")


def test_truncated_rows_fixed_in_profiles_update_the_data_place(tmp_path, engine_cache):  # noqa: F811
    need_tmux()
    config = tmp_path / "config"
    profile = write_broken_case(config / "profiles")
    env = {
        "TERM": "xterm-256color",
        "COCKPIT_CONFIG_DIR": str(config),
        "COCKPIT_CACHE_DIR": str(engine_cache),
        "HF_HOME": str(engine_cache / "hf"),
        "HF_HUB_OFFLINE": "1",
        "COCKPIT_HUB_PROBE": "0",
    }
    term = Tmux(f"{COCKPIT} --simulate rtx3050-4gb --place data", 120, 40, env)
    try:
        term.wait_for("Profile", "tiny-demo-cpu", "broken")
        term.press("Down")  # tiny-demo-cpu (the default) → broken
        term.wait_for("data_truncated", "28 rows over 64", timeout=CHECK_S)

        term.press("Enter")  # to the findings (their border lights up)
        term.press("Down")
        term.press("Down")
        term.wait_for("! WARNING  data_truncated")
        term.press("Enter")  # to its lines (their border lights up)
        term.send("Enter")  # preview line 4
        term.wait_for("◂ asked for", "line 4 · ", timeout=CHECK_S)

        term.send("3")
        term.wait_for("Plan for")  # the place is up ("Profiles" is in every place's bar)
        _highlight_second_profile(term)
        term.send("Enter")
        # the form is open (its header says the file is saved) and has the focus: on a
        # first visit the form joins after the list, and keys sent before it is open
        # move the list's focus instead
        term.wait_for("broken.toml  saved", "FITS")
        for _ in range(TABS_TO_MAX_SEQ_LENGTH):
            term.send("Tab")
        term.wait_until(lambda s: _field(s, "max_seq_length") == "64", what="the field")
        term.send("C-a")
        term.send("C-k")
        term.wait_until(lambda s: "max_seq_length          default" in s, what="the field emptied")
        term.send("256")
        term.wait_until(lambda s: _field(s, "max_seq_length") == "256", what="256 typed")
        term.press("Escape")  # leave the field (ctrl+s saves from the form)
        term.send("C-s")
        term.wait_until(
            lambda s: "max_seq_length = 256" in profile.read_text(encoding="utf-8"),
            what="the profile saved",
        )
        term.escape_until("⏎ Open")  # out of the field and the form, to the list

        term.send("6")
        screen = term.wait_for("0 rows over 256", timeout=CHECK_S)
        assert "data_truncated" not in screen
        assert "data_malformed_line" in screen  # the other findings are still there
    finally:
        term.close()
