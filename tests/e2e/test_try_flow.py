"""Try a trained run in a real terminal (80x24) with the real chat engine: Runs, the run,
`t`, a question typed while the model loads, the answer streamed in, the base model beside
it (ctrl+b), escape back, quit; nothing of the engine is left running."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmux import Tmux
from tests.engines.helpers import engine_env, make_run_dir, run_engine
from tests.system_tools import need_tmux

COCKPIT = str(Path(sys.executable).parent / "cockpit")
RUN_ID = "20261207-120000-tiny-demo-cpu"
LOAD_S = 180

pytestmark = pytest.mark.e2e


def _engines_alive(run_dir: Path) -> bool:
    found = subprocess.run(["pgrep", "-f", f"engines chat {run_dir}"], capture_output=True)
    return found.returncode == 0


def test_chat_with_a_trained_run_and_its_base(tmp_path):
    need_tmux()
    cache = tmp_path / "cache"
    env = engine_env(cache)
    train = {"max_steps": 60, "learning_rate": 1e-2, "save_steps": 0}
    run_dir = make_run_dir(tmp_path / "runs", "tiny-demo-cpu", RUN_ID, train=train)
    assert run_engine(run_dir, env).returncode == 0
    keep = ("COCKPIT_CACHE_DIR", "HF_HOME", "HF_HUB_OFFLINE", "OMP_NUM_THREADS")
    term_env = {key: env[key] for key in keep}
    term_env |= {"TERM": "xterm-256color", "COCKPIT_RUNS_DIR": str(run_dir.parent),
                 "COCKPIT_CONFIG_DIR": str(tmp_path / "config")}  # fmt: skip
    term = Tmux(f"{COCKPIT} --place runs", 80, 24, term_env)
    try:
        term.wait_for("new run", "tiny-demo-cpu")
        term.send("Down")
        term.wait_for("t Try")
        term.send("t")
        term.wait_for("Loading the base model")
        term.send("What does LoRA stand for?", "Enter")  # asked while it loads
        term.wait_until(  # the tuned model's answer is in: its label, then its speed below it
            lambda s: "│ tuned  " in s and s.rfind("tokens/s") > s.rfind("│ tuned  "),
            timeout=LOAD_S,
            what="the tuned model's answer",
        )
        term.send("C-b")
        term.send("Why does LoRA save memory?", "Enter")
        term.wait_until(  # the base's answer is in: its label, then its speed below it
            lambda s: "│ base  " in s and s.rfind("tokens/s") > s.rfind("│ base  "),
            what="the base's answer",
        )
        term.send("Escape")
        term.wait_for("t Try")
        term.wait_until(lambda s: not _engines_alive(run_dir), what="the engine to end")
        term.send("q")
    finally:
        term.close()
    assert not _engines_alive(run_dir)
