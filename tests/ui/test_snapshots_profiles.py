"""SVG snapshots of the Profiles place on the simulated RTX 3050 (4 GiB), shipped profiles only.

Regenerate after an intended change with ``pytest tests/ui --snapshot-update`` and look
at the SVGs before committing them. The estimates come from cockpit.vram: a change to its
calibration changes the numbers here too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from cockpit.profiles.store import CONFIG_DIR_ENV
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import settle
from tests.ui.test_profiles import QLORA_3B, open_profile, type_into


@pytest.fixture(autouse=True)
def _no_user_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))


async def _open_3b(pilot: Pilot) -> None:
    await settle(pilot)
    await open_profile(pilot, QLORA_3B)
    pilot.app.screen.query_one("#estimate-suggestions").focus()  # no blinking cursor
    await settle(pilot)


async def _open_3b_batch_4(pilot: Pilot) -> None:
    await settle(pilot)
    await open_profile(pilot, QLORA_3B)
    await type_into(pilot, "train.batch_size", "4")
    pilot.app.screen.query_one("#estimate-suggestions").focus()
    await settle(pilot)


def test_profiles_list_80x24(snap_compare):
    app = make_app(start_place="profiles")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_profiles_open_3b_qlora_on_4gb_200x50(snap_compare):
    app = make_app(start_place="profiles")
    assert snap_compare(app, terminal_size=(200, 50), run_before=_open_3b)


def test_profiles_batch_4_wont_fit_120x40(snap_compare):
    app = make_app(start_place="profiles")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_open_3b_batch_4)


def test_profiles_open_3b_qlora_80x24(snap_compare):
    # Seen at 80x24: the editor showed ~4 rows under a two-line header, the estimate pane
    # hid the suggestions, the footer was cut.
    app = make_app(start_place="profiles")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_open_3b)
