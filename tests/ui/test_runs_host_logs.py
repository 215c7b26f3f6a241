"""A run on several ssh hosts keeps each host's log; `l` in the Runs place asks which one
and the Logs place opens it."""

from __future__ import annotations

import json

from textual.widgets import OptionList

from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.tui.screens.prompt import ChoicePrompt
from tests.compare_fixtures import write_run
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, wait_for

RUN = "20261207-120000-two-hosts"


async def test_l_asks_which_hosts_log_and_opens_it_in_the_logs_place(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    monkeypatch.setenv(RUNS_DIR_ENV, str(root))
    run_dir = write_run(root, RUN, lr=0.01)
    meta = json.loads((run_dir / "run.json").read_text())
    hosts = [{"host": "gpu1", "argv": ["true"]}, {"host": "gpu2", "argv": ["true"]}]
    (run_dir / "run.json").write_text(json.dumps(meta | {"ssh_hosts": hosts, "launcher": "ssh"}))
    (run_dir / "hosts").mkdir()
    for rank, host in enumerate(("gpu1", "gpu2")):
        (run_dir / "hosts" / f"{host}.log").write_text(f"rank {rank} trained on {host}\n")
    app = make_app(start_place="runs")
    async with app.run_test(size=(100, 34)) as pilot:
        await wait_for(pilot, lambda: "finished 40/40" in screen_text(app))
        app.screen.query_one("RunList").select(RUN)
        await wait_for(pilot, lambda: "two-hosts  finished" in screen_text(app))
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoicePrompt))
        labels = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert labels == ["rank 0 · gpu1", "rank 1 · gpu2", "cockpit's own (output.log)"]
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: "rank 1 trained on gpu2" in screen_text(app))
        assert "gpu2.log" in screen_text(app)
