"""The Profiles form says what checkpoints cost on disk, under save_steps, as the user edits.

Before (issue 13): save_steps had no word on its cost, and there was no save_total_limit
field, so a run kept every checkpoint it wrote.
"""

from __future__ import annotations

from textual.widgets import Static

from tests.ui.conftest import settle
from tests.ui.test_profiles import QLORA_3B, open_profile, profiles_app, row, type_into, user_dir

__all__ = ["user_dir"]  # the fixture, used by name


def _note(app, dotted: str) -> str:
    line = row(app, dotted).query_one(".field-note", Static)
    return str(line.render()) if line.display else ""


async def test_save_steps_shows_the_checkpoint_size_and_follows_the_edits(user_dir):
    app = profiles_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        note = _note(app, "train.save_steps")
        assert note.startswith("checkpoints: every 50 steps, ≈ 140 MiB each (adapter 93 MiB")
        assert "the newest 2 kept: ≈ 280 MiB on disk" in note
        assert row(app, "train.save_total_limit").display  # the new field is in the form

        await type_into(pilot, "train.save_total_limit", "3")
        assert "the newest 3 kept: ≈ 419 MiB on disk" in _note(app, "train.save_steps")
        await type_into(pilot, "train.save_steps", "0")
        assert _note(app, "train.save_steps").startswith(
            "checkpoints: none, so a crash loses the whole run"
        )
        await type_into(pilot, "train.batch_size", "abc")  # invalid: no estimate, no figure
        assert _note(app, "train.save_steps") == ""
        assert _note(app, "train.batch_size") == ""
