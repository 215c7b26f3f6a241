"""Try a run (`t` in Runs): the chat pane against the real chat engine process and a tiny
run trained here for real on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV, RunDir, summarize_dir
from cockpit.tui.screens.chat import ChatScreen, Turn
from cockpit.tui.screens.runs import RunsScreen
from tests.engines.helpers import engine_env, make_run_dir, run_engine
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, wait_for

pytestmark = pytest.mark.slow  # it trains a run, then loads it in an engine process
LOAD_S = 120  # a busy 2-core machine loads torch, transformers and peft slowly


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A finished tiny run in a runs folder of its own, and the engines' environment."""
    cache = tmp_path_factory.mktemp("chat-ui-cache")
    runs = tmp_path_factory.mktemp("chat-ui-runs")
    env = engine_env(cache)
    train = {"max_steps": 60, "learning_rate": 1e-2, "save_steps": 0}
    run_dir = make_run_dir(runs, "tiny-demo-cpu", "20261207-120000-tiny-demo-cpu", train=train)
    assert run_engine(run_dir, env).returncode == 0
    return run_dir, env


@pytest.fixture
def chat_env(trained, monkeypatch, tmp_path) -> Path:
    run_dir, env = trained
    for key, value in env.items():
        if key != "PYTHONPATH":
            monkeypatch.setenv(key, value)
    monkeypatch.setenv(RUNS_DIR_ENV, str(run_dir.parent))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    return run_dir


def _answers(app, who: str) -> list[Turn]:
    return [t for t in app.screen.query(Turn) if t.who == who and t.note]


async def _ask(pilot, text: str) -> None:
    pilot.app.screen.query_one("#chat-prompt").value = text
    await pilot.press("enter")


async def test_a_finished_run_answers_as_it_generates_and_beside_its_base(chat_env):
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "ready to start" in screen_text(app))
        await pilot.press("down")  # the run
        await wait_for(pilot, lambda: "t Try" in screen_text(app))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen))
        app.screen.query_one("#chat-temperature").value = "0"  # greedy: comparable answers
        app.screen.query_one("#chat-max").value = "24"
        await _ask(pilot, "What does LoRA stand for?")  # typed while the model loads
        await wait_for(pilot, lambda: _answers(app, "tuned"), timeout=LOAD_S)
        (tuned,) = _answers(app, "tuned")
        assert tuned.updates > 1  # it streamed in, not all at once
        assert "24 tokens ·" in tuned.note and "tokens/s" in tuned.note
        assert "loaded in" in screen_text(app) and "on cpu" in screen_text(app)

        await pilot.press("ctrl+n")  # a new chat, then the same question with the base beside
        await wait_for(pilot, lambda: not app.screen.query(Turn))
        await pilot.press("ctrl+b")
        await _ask(pilot, "What does LoRA stand for?")
        await wait_for(pilot, lambda: _answers(app, "base"), timeout=LOAD_S)
        (again,), (base,) = _answers(app, "tuned"), _answers(app, "base")
        assert again.text == tuned.text  # greedy, warm: the same answer
        assert base.text != tuned.text  # what the training changed

        engine = app.screen.engine
        await pilot.press("escape")  # back to Runs; the engine process ends
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
        await wait_for(pilot, lambda: engine._proc.poll() is not None, timeout=30)


async def test_a_run_whose_model_cannot_load_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    broken = tmp_path / "20261207-130000-broken"
    broken.mkdir()  # not a run folder: no profile.toml
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        app.push_screen(ChatScreen(summarize_dir(RunDir(broken))))
        await wait_for(pilot, lambda: "could not be loaded" in screen_text(app), timeout=LOAD_S)
        assert "has no profile.toml: not a run folder" in screen_text(app)
        assert app.screen.query_one("#chat-prompt").disabled
