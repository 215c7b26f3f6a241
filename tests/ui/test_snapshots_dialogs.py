"""SVG snapshots of the dialogs at 80x24: Settings, and the help over the Profiles place.

Regenerate after an intended change with ``pytest tests/ui/test_snapshots_dialogs.py
--snapshot-update`` and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from cockpit.paths import CONFIG_DIR_ENV
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import settle


@pytest.fixture(autouse=True)
def _demo_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A config folder that does not exist: only shipped profiles, and the path the Settings
    dialog names is the same on every machine (nothing is written)."""
    monkeypatch.setenv(CONFIG_DIR_ENV, "/home/demo/.config/cockpit")


def test_settings_80x24(snap_compare):
    app = make_app()
    assert snap_compare(app, press=["comma"], terminal_size=(80, 24), run_before=settle)


def test_help_on_profiles_80x24(snap_compare):
    app = make_app(start_place="profiles")
    assert snap_compare(app, press=["question_mark"], terminal_size=(80, 24), run_before=settle)
