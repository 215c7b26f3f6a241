"""SVG snapshots of the Logs place at 80x24: a finding selected with its fix, and a search
that wrapped (the status line names the search that n and N repeat).

Regenerate after an intended change with ``pytest tests/ui --snapshot-update`` and look at
the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.fixtures.logs import write_failed_run_log
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import settle


@pytest.fixture
def relative_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # a relative path keeps the status line the same everywhere
    log = Path("runs/qlora-3b/output.log")
    log.parent.mkdir(parents=True)
    write_failed_run_log(log)
    return str(log)


def test_logs_with_a_finding_selected_80x24(snap_compare, relative_log):
    app = make_app(start_place="logs", log_target=relative_log)
    assert snap_compare(
        app, press=["right_square_bracket"], terminal_size=(80, 24), run_before=settle
    )


def test_logs_search_wrapped_to_the_top_80x24(snap_compare, relative_log):
    async def search(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"grad_norm", "enter", "G", "n")
        await settle(pilot)

    app = make_app(start_place="logs", log_target=relative_log)
    assert snap_compare(app, terminal_size=(80, 24), run_before=search)
