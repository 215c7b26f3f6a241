"""SVG snapshots of each place on fixture data (pytest-textual-snapshot).

Regenerate after an intended change with ``pytest tests/ui --snapshot-update`` and look
at the SVGs before committing them.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from tests.fixtures.logs import write_failed_run_log
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import settle

HISTORY_S = 59


def test_hardware_simulated_80x24(snap_compare):
    app = make_app(seed_history_s=HISTORY_S)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_hardware_simulated_200x50(snap_compare):
    app = make_app(seed_history_s=HISTORY_S)
    assert snap_compare(app, terminal_size=(200, 50), run_before=settle)


def test_hardware_two_gpus_200x50(snap_compare):
    app = make_app(gpu="2x-a100-40gb", seed_history_s=HISTORY_S)
    assert snap_compare(app, terminal_size=(200, 50), run_before=settle)


def test_hardware_no_gpu_80x24(snap_compare):
    app = make_app(gpu=None, seed_history_s=HISTORY_S)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_doctor_failing_row_selected_120x40(snap_compare):
    async def select_second_failure(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("down")

    app = make_app(start_place="doctor")
    assert snap_compare(app, terminal_size=(120, 40), run_before=select_second_failure)


def test_doctor_80x24(snap_compare):
    app = make_app(start_place="doctor")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_help_on_doctor_80x24(snap_compare):
    app = make_app(start_place="doctor")
    assert snap_compare(app, press=["question_mark"], terminal_size=(80, 24), run_before=settle)


def test_logs_with_a_finding_selected_100x30(snap_compare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative path keeps the status line the same everywhere
    log = Path("runs/qlora-3b/output.log")
    log.parent.mkdir(parents=True)
    write_failed_run_log(log)
    app = make_app(start_place="logs", log_target=str(log))
    assert snap_compare(
        app, press=["right_square_bracket"], terminal_size=(100, 30), run_before=settle
    )


def test_logs_without_a_log_80x24(snap_compare):
    app = make_app(start_place="logs")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
