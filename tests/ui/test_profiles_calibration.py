"""The Profiles estimate pane shows the correction learned from the user's runs on the
detected GPU ("calibrated on N of your runs, residual x %"), and none from fewer than two."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w
from textual.widgets import Static

from cockpit.hardware.snapshot import GIB, GpuSnapshot, NvmlStatus
from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV
from cockpit.tui.widgets.estimate_pane import EstimatePane
from cockpit.tui.widgets.profile_list import ProfileList
from cockpit.vram.estimate import estimate
from engines.profile_schema import profile_from_dict
from tests.ui.cockpit_snapshot_app import FixedGpuSource, make_app
from tests.ui.conftest import settle
from tests.vram_history import GPU, SEED, history_of

CARD = GpuSnapshot(index=0, name=GPU, memory_total_bytes=12 * GIB, memory_used_bytes=GIB)


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    profiles = tmp_path / "config" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "seed.toml").write_text(tomli_w.dumps(SEED))
    return tmp_path / "runs"


async def _pane_text() -> tuple[str, str]:
    """(the pane's text, its headline) with the seed profile open on the RTX 3060."""
    app = make_app(gpu=FixedGpuSource(NvmlStatus(available=True), (CARD,)), start_place="profiles")
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(ProfileList)
        listing.focus()
        listing.highlighted = [item.name for item in listing.items].index("seed")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        pane = app.screen.query_one(EstimatePane)
        text = "\n".join(str(s.render()) for s in pane.query(Static) if s.display)
        return " ".join(text.split()), str(pane.query_one("#estimate-verdict").render())


async def test_the_pane_says_what_it_was_calibrated_on(runs) -> None:
    history_of(runs, [1.1, 1.15, 1.2])
    plain = estimate(profile_from_dict(SEED), 12.0, suggest=False)
    text, headline = await _pane_text()
    assert "calibrated on 3 of your runs, residual 4 %" in text
    corrected = plain.total_gib + 0.15 * plain.peak_allocated_gib
    assert f"{corrected:.2f} of" in headline


async def test_one_run_is_not_enough_to_calibrate(runs) -> None:
    history_of(runs, [1.3])
    plain = estimate(profile_from_dict(SEED), 12.0, suggest=False)
    text, headline = await _pane_text()
    assert "calibrated" not in text
    assert f"{plain.total_gib:.2f} of" in headline
