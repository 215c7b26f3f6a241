"""The Runs place with a fake engine (tests/fake_engine.py) in a scratch runs folder: start,
watch, finish, crash, refuse, stop, resume, re-attach, and coalescing under a fast engine.

The engine is a real process (spawned through the real supervisor and reaper); only the
training is fake, so these tests exercise what a user sees around a run.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.runjson import read_meta
from cockpit.runs.store import RUNS_DIR_ENV, list_runs, runs_root
from cockpit.runs.supervisor import ENGINE_MODULE_ENV, start_run
from cockpit.tui.screens.profile_dialogs import ConfirmDialog
from cockpit.tui.widgets.loss_chart import LossChart
from cockpit.tui.widgets.run_list import RunList
from cockpit.tui.widgets.run_view import RunView
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, wait_for

SHIPPED = Path(__file__).resolve().parents[2] / "profiles"
DEMO = SHIPPED / "tiny-demo-cpu.toml"


@pytest.fixture
def runs_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch runs folder, no user profiles, the fake engine; kills what is left."""
    root = tmp_path / "runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(root))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(ENGINE_MODULE_ENV, "tests.fake_engine")
    monkeypatch.setenv("FAKE_ENGINE", "steps=5")
    yield root
    for summary in list_runs(root):
        meta = read_meta(summary.run_dir / "run.json")
        for key in ("pgid", "pid"):
            if isinstance(meta.get(key), int) and summary.active:
                with contextlib.suppress(OSError):
                    os.killpg(meta[key], signal.SIGKILL)


class Recorder:
    """The app's notifications and bells, as (severity, title, message) and a count."""

    def __init__(self, app) -> None:
        self.notes: list[tuple[str, str, str]] = []
        self.bells = 0
        notify = app.notify

        def record(message: str, *, title: str = "", severity: str = "information", **kw):
            self.notes.append((severity, title, message))
            notify(message, title=title, severity=severity, **kw)

        def bell() -> None:
            self.bells += 1

        app.notify = record
        app.bell = bell

    def titled(self, title: str) -> list[tuple[str, str, str]]:
        return [note for note in self.notes if note[1] == title]


def view(app) -> RunView:
    return app.screen.query_one(RunView)


def head(app) -> str:
    """The open run's status line (run id and status)."""
    latest = view(app).latest
    return "" if latest is None else f"{latest.run_id} {latest.update.summary.status}"


def shown_step(app) -> int:
    match = re.search(r"step (\d+)/", screen_text(app))
    return int(match.group(1)) if match else -1


async def open_runs(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: "ready to start" in screen_text(pilot.app))


async def test_start_watch_finish_notifies_and_keeps_the_chart(runs_env, monkeypatch):
    monkeypatch.setenv("FAKE_ENGINE", "steps=12,gate=6")  # waits at step 6 for the test
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        seen = Recorder(app)
        await open_runs(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: "running" in head(app) and shown_step(app) == 6)
        assert re.search(r"running +6/12 +tiny-demo-cpu", screen_text(app))  # the list
        (run,) = list_runs(runs_env)
        (run.run_dir / "gate").touch()
        await wait_for(pilot, lambda: "finished" in head(app))
        await wait_for(pilot, lambda: seen.titled("Run finished"))
        text = screen_text(app)
        assert "step 12/12" in text
        assert "loss 0.2500" in text
        assert len(view(app).query_one(LossChart).points) == 12
        assert seen.bells == 1
        severity, _, message = seen.titled("Run finished")[0]
        assert severity == "information" and "Adapter saved" in message


async def test_a_sigkilled_engine_shows_crashed_with_the_signal(runs_env, monkeypatch):
    monkeypatch.setenv("FAKE_ENGINE", "steps=3,then=crash:SIGKILL")
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        seen = Recorder(app)
        await open_runs(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: "crashed" in head(app) and seen.titled("Run crashed"))
        text = screen_text(app)
        assert "crashed: SIGKILL" in text
        assert "cockpit explain" in text  # the next step
        severity, _, message = seen.titled("Run crashed")[0]
        assert severity == "error" and "SIGKILL" in message
        assert seen.bells == 1


def _user_profile(name: str, text: str) -> None:
    folder = Path(os.environ[CONFIG_DIR_ENV]) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text)


async def _highlight_profile(pilot: Pilot, name: str) -> None:
    await pilot.press("n")
    options = pilot.app.screen.query_one("#launch-profiles")
    while options.highlighted_option.id != name:
        await pilot.press("down")
    await wait_for(pilot, lambda: pilot.app.screen.check and pilot.app.screen.check.name == name)


@pytest.mark.parametrize(
    "text, expected",
    [
        (DEMO.read_text().replace("data/demo.jsonl", "/nowhere/data.jsonl"), "no file"),
        ("name = 'broken'\n[model\nname_or_path = 'x'\n", "fix the file so it reads as TOML"),
    ],
    ids=["missing-data", "malformed-toml"],
)
async def test_a_refused_profile_says_why_and_spawns_nothing(runs_env, text, expected):
    _user_profile("bad", text)
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        seen = Recorder(app)
        await open_runs(pilot)
        await _highlight_profile(pilot, "bad")
        screen = screen_text(app)
        assert "refused to start" in screen and expected in screen
        await pilot.press("s")
        await pilot.pause()
        assert seen.titled("Refused to start")
        assert not runs_root().exists() or not any(runs_root().iterdir())


async def test_missing_training_stack_shows_the_pip_command(runs_env, tmp_path, monkeypatch):
    monkeypatch.delenv(ENGINE_MODULE_ENV)  # the real engine needs torch & co
    env = tmp_path / "bare-env"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    _user_profile("bare", DEMO.read_text().replace('python = ""', f'python = "{python}"'))
    app = make_app(start_place="runs")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot)
        await _highlight_profile(pilot, "bare")
        verdict = app.screen.query_one("#launch-verdict", Static).content.plain
        assert "the training stack is missing" in verdict
        assert f"{python} -m pip install torch transformers peft trl datasets accelerate" in verdict
        assert "s start" not in app.screen.query_one("#launch-keys", Static).content.plain


async def test_force_asks_before_starting_a_profile_that_wont_fit(runs_env):
    app = make_app(start_place="runs")  # the simulated 4 GiB card
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runs(pilot)
        await _highlight_profile(pilot, "qwen2.5-coder-1.5b-qlora-sft")
        assert "won't fit" in screen_text(app)
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert not runs_root().exists()
        await pilot.press("f", "y")
        await wait_for(pilot, lambda: "qwen2.5-coder-1.5b-qlora-sft" in head(app))


async def test_stop_asks_then_stops_and_resume_runs_again(runs_env, monkeypatch):
    monkeypatch.setenv("FAKE_ENGINE", "steps=400,delay=0.05")
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        seen = Recorder(app)
        await open_runs(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: "running" in head(app) and shown_step(app) > 0)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")  # keep it running
        await pilot.pause()
        assert "running" in head(app)
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: "stopped" in head(app))
        stopped_at = shown_step(app)
        assert "resume from the last checkpoint with r" in screen_text(app)
        assert seen.titled("Run stopped")[0][0] == "warning"
        await pilot.press("r")
        await wait_for(pilot, lambda: "running" in head(app) and shown_step(app) > stopped_at)
        await pilot.press("x", "y")
        await wait_for(pilot, lambda: "stopped" in head(app))
        assert len(seen.titled("Run stopped")) == 2


async def test_a_run_started_before_the_app_is_reattached_and_its_end_announced(
    runs_env, monkeypatch
):
    # waits after step 30 until the test has seen it live (a loaded machine could otherwise
    # finish the run before the app first looked, and there would be no progress to follow)
    monkeypatch.setenv("FAKE_ENGINE", "steps=60,delay=0.01,gate=30")
    run = start_run(DEMO, gpu_sizes_gib=())
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        seen = Recorder(app)
        await wait_for(pilot, lambda: head(app) == f"{run.id} running")
        assert app.screen.query_one(RunList).selected_id == run.id
        await wait_for(pilot, lambda: shown_step(app) == 30)  # followed live, not read once
        (listed,) = list_runs(runs_env)
        (listed.run_dir / "gate").touch()
        await wait_for(pilot, lambda: shown_step(app) == 60)
        await wait_for(pilot, lambda: seen.titled("Run finished"))
        assert seen.bells == 1


async def test_a_fast_engine_is_coalesced_and_the_last_step_shown(runs_env, monkeypatch):
    monkeypatch.setenv("FAKE_ENGINE", "steps=500")
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        await open_runs(pilot)
        await pilot.press("s")
        await wait_for(pilot, lambda: "finished" in head(app))
        assert "step 500/500" in screen_text(app)
        assert len(view(app).query_one(LossChart).points) == 500
        assert view(app).received < 25  # 500 step events, a handful of UI updates


async def test_pressing_start_three_times_quickly_starts_one_run(runs_env, monkeypatch):
    monkeypatch.setenv("FAKE_ENGINE", "steps=5,delay=0.05")
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        seen = Recorder(app)
        await open_runs(pilot)
        await pilot.press("s", "s", "s")  # no waiting: the first launch is still spawning
        await wait_for(pilot, lambda: "finished" in head(app))
        await app.workers.wait_for_complete()
        assert len(list(runs_root().iterdir())) == 1
        assert not seen.titled("Could not start the run")
