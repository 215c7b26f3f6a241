"""Ship a run (`e` in Runs): an export started from the view runs detached, its progress and
the exports folder shown; GGUF without llama.cpp says what to install."""

from __future__ import annotations

import pytest

from cockpit.paths import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV, RunDir, summarize_dir
from cockpit.tui.screens.exports import ExportScreen
from tests.compare_fixtures import write_run
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, wait_for

pytestmark = pytest.mark.slow  # it starts an engine process


async def test_gguf_without_llama_cpp_is_said_in_the_view(tmp_path, monkeypatch):
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.delenv("LLAMA_CPP_DIR", raising=False)
    run = write_run(tmp_path / "runs", "20261201-100000-tiny-demo-cpu", lr=1e-3)
    (run / "adapter").mkdir()
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        app.push_screen(ExportScreen(summarize_dir(RunDir(run))))
        await wait_for(pilot, lambda: "nothing yet: m merged" in screen_text(app))
        await pilot.press("g")
        await wait_for(pilot, lambda: "llama.cpp's converter" in screen_text(app), timeout=60)
        await wait_for(pilot, lambda: "no export running" in screen_text(app))
        assert "LLAMA_CPP_DIR" in screen_text(app)
        assert not list((run / "exports").glob("*.gguf*"))
