"""Issue 5's walk in a real terminal: a failed run's log opened from the Runs place at its
known problem, jumping between findings with the fix beside them, the planted token
redacted, then another file opened by path and followed while it grows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cockpit.runs.runjson import update_meta
from cockpit.runs.store import RUNS_DIR_ENV, create_run
from tests.e2e.tmux import Tmux
from tests.fixtures.logs import PLANTED_TOKEN, failed_run_lines
from tests.runs_helpers import TINY
from tests.system_tools import need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
PAD = "ValueError: Asking to pad but the tokenizer does not have a padding token."
NOON = 1_795_000_000.0

pytestmark = pytest.mark.e2e


@pytest.fixture
def failed_run(tmp_path, monkeypatch) -> dict[str, str]:
    need_tmux()
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    run = create_run(TINY, now=NOON)
    update_meta(run.run_json, pid=999_999, exit_code=1, ended=NOON + 60)
    lines = failed_run_lines()
    lines.insert(6, PAD)  # a first finding early in the log; the OOM stays last
    run.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "TERM": "xterm-256color",
        "COCKPIT_RUNS_DIR": str(tmp_path / "runs"),
        "COCKPIT_CONFIG_DIR": str(tmp_path / "config"),
    }


def test_read_a_failed_runs_log_then_follow_a_growing_file(failed_run, tmp_path):
    term = Tmux(f"{COCKPIT} --place runs", 110, 34, failed_run)
    try:
        term.wait_for("tiny-demo-cpu", timeout=30)
        term.send("Down")  # from the launch entry to the run
        term.wait_for("Read log")
        screen = term.press("l")
        screen = term.wait_for("2 findings (2 errors)", "Line 40")
        assert "CUDA out of memory" in screen and "(cuda_oom)" in screen  # opened at the cause
        assert "gradient_accumulation_steps" in screen  # its fix, beside the log

        term.send("[")  # back to the first finding
        screen = term.wait_for("Line 7", "(tokenizer_pad_token_missing)")
        assert "pad_token = tokenizer.eos_token" in screen  # that cause's own fix
        term.send("]")
        term.wait_for("Line 40")

        screen = term.press("g")  # top of the log: the command line with the token
        term.wait_for("--hub-token hf_…(redacted)")
        assert PLANTED_TOKEN not in term.screen()

        growing = tmp_path / "growing.log"
        growing.write_text("epoch 1 started\n", encoding="utf-8")
        term.send("o")
        term.wait_for("Open log")
        term.type_into_prompt(str(growing), "runs/…/output.log")
        term.send("Enter")
        term.wait_for("growing.log", "epoch 1 started", "no known problems")
        term.send("f")
        term.wait_for("FOLLOW")
        with open(growing, "a", encoding="utf-8") as out:
            out.write("step 2 loss 1.9\nRuntimeError: CUDA error: out of memory\n")
        screen = term.wait_for("step 2 loss 1.9", "1 finding (1 error)")
        assert "CUDA error: out of memory" in screen
    finally:
        term.close()
