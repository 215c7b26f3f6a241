"""The Profiles place's file operations: save, save-as, new, duplicate, delete, revert, and
the question asked before unsaved edits could be lost. Files go to a temporary
COCKPIT_CONFIG_DIR; the shipped profiles must come out byte for byte unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from cockpit.profiles.store import CONFIG_DIR_ENV, ProfileSaveError, shipped_profiles_dir
from cockpit.tui.screens.profile_dialogs import ConfirmDialog, NameDialog, UnsavedDialog
from cockpit.tui.widgets.profile_form import ProfileForm
from cockpit.tui.widgets.profile_list import ProfileList
from tests.ui.conftest import screen_text, settle, wait_for
from tests.ui.test_profiles import QLORA_3B, open_profile, profiles_app, type_into

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user profiles folder (the app's COCKPIT_CONFIG_DIR)."""
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    profiles = tmp_path / "config" / "profiles"
    profiles.mkdir(parents=True)
    return profiles


@pytest.fixture
def shipped_bytes() -> dict[str, bytes]:
    """The shipped profiles as they are before the test (compared after it)."""
    return {p.name: p.read_bytes() for p in sorted(shipped_profiles_dir().glob("*.toml"))}


def assert_shipped_untouched(before: dict[str, bytes]) -> None:
    after = {p.name: p.read_bytes() for p in sorted(shipped_profiles_dir().glob("*.toml"))}
    assert after == before
    assert not list(shipped_profiles_dir().glob("*.bak"))


@pytest.fixture
def my_profile(user_dir: Path) -> Path:
    """A user profile: a copy of the 3B QLoRA profile under another name."""
    text = (shipped_profiles_dir() / f"{QLORA_3B}.toml").read_text(encoding="utf-8")
    path = user_dir / "my-3b.toml"
    path.write_text(text.replace(f'name = "{QLORA_3B}"', 'name = "my-3b"'), encoding="utf-8")
    return path


def on_disk(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.mark.slow
async def test_ctrl_s_saves_keeps_a_backup_reopening_shows_it_and_revert_asks(my_profile):
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await open_profile(pilot, "my-3b")
        await type_into(pilot, "train.batch_size", "2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert on_disk(my_profile)["train"]["batch_size"] == 2
        backup = my_profile.with_name("my-3b.toml.bak")
        assert on_disk(backup)["train"]["batch_size"] == 1
        assert my_profile.read_text(encoding="utf-8").startswith("# rtx3050")  # comments kept
        assert "saved" in screen_text(app) and not app.screen.dirty
        await pilot.press("escape", "escape")
        await settle(pilot)
        await open_profile(pilot, "my-3b")
        assert app.screen.query_one("#field-train-batch_size", Input).value == "2"

        await type_into(pilot, "train.batch_size", "7")  # revert asks, then shows the file
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.query_one("#field-train-batch_size", Input).value == "2"
        assert not app.screen.dirty


async def test_saving_a_shipped_profile_asks_a_name_and_writes_only_your_copy(
    user_dir, shipped_bytes
):
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        await type_into(pilot, "train.grad_accum", "16")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NameDialog)
        await pilot.press("enter")  # the proposed name
        await settle(pilot)
        copy = user_dir / f"my-{QLORA_3B}.toml"
        saved = on_disk(copy)
        assert saved["train"]["grad_accum"] == 16
        assert saved["name"] == f"my-{QLORA_3B}"
        assert app.screen.current.path == copy
        assert f"my-{QLORA_3B}" in [i.name for i in app.screen.query_one(ProfileList).items]
    assert_shipped_untouched(shipped_bytes)


async def test_a_failed_save_says_why_and_keeps_the_edits(my_profile, monkeypatch):
    def refuse(path, raw, *, header=None):
        raise ProfileSaveError(f"cannot save {path}: permission denied, the folder is read-only")

    monkeypatch.setattr("cockpit.tui.screens.profile_actions.save_profile_file", refuse)
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await open_profile(pilot, "my-3b")
        await type_into(pilot, "train.batch_size", "3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "read-only" in screen_text(app)
        assert app.screen.query_one(ProfileForm).raw["train"]["batch_size"] == 3
        assert app.screen.dirty
        assert on_disk(my_profile)["train"]["batch_size"] == 1


async def test_saving_into_a_read_only_config_folder_names_it_and_the_way_out(
    my_profile, user_dir, monkeypatch
):
    def read_only(*args, **kwargs):  # simulated: as root a read-only folder is still writable
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("cockpit.atomic.tempfile.mkstemp", read_only)
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await open_profile(pilot, "my-3b")
        await type_into(pilot, "train.batch_size", "3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        said = [n.message for n in app._notifications if n.title == "Not saved"]
        assert len(said) == 1 and f"the folder {user_dir} is not writable" in said[0]
        assert "COCKPIT_CONFIG_DIR" in said[0] and "another name" not in said[0]
        assert app.screen.dirty


@pytest.mark.slow
async def test_leaving_with_unsaved_edits_asks_and_escape_keeps_editing(my_profile):
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_profile(pilot, "my-3b")
        await type_into(pilot, "train.batch_size", "2")
        await pilot.press("escape")  # out of the field
        await settle(pilot)
        assert not isinstance(app.screen, UnsavedDialog)
        assert not isinstance(app.screen.focused, Input)
        await pilot.press("escape")  # back to the list: asks first
        await settle(pilot)
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        assert app.screen.is_open and app.screen.dirty
        await open_profile(pilot, "tiny-demo-cpu")  # opening another asks too
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.current.path == my_profile
        app.screen.query_one("#field-top-engine", Select).focus()
        await pilot.press("1")  # another place
        await settle(pilot)
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("d")  # discard
        await settle(pilot)
        assert app.current_mode == "hardware"
        assert on_disk(my_profile)["train"]["batch_size"] == 1


async def test_quitting_with_unsaved_edits_can_save_them_first(my_profile):
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_profile(pilot, "my-3b")
        await type_into(pilot, "train.batch_size", "2")
        app.screen.query_one("#field-top-engine", Select).focus()
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, UnsavedDialog)
        await pilot.press("s")
        await settle(pilot)
    assert app.return_code == 0
    assert on_disk(my_profile)["train"]["batch_size"] == 2


async def test_delete_asks_for_confirmation_and_shipped_profiles_cannot_be_deleted(
    my_profile, shipped_bytes
):
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(ProfileList)
        names = [item.name for item in listing.items]
        listing.highlighted = names.index("my-3b")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert my_profile.exists()
        await pilot.press("x", "y")
        await settle(pilot)
        assert not my_profile.exists()
        assert my_profile.with_name("my-3b.toml.bak").exists()
        assert "my-3b" not in [item.name for item in listing.items]
        listing.highlighted = [item.name for item in listing.items].index(QLORA_3B)
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert "cannot be deleted" in screen_text(app)
    assert_shipped_untouched(shipped_bytes)


async def test_new_from_a_shipped_profile_is_unsaved_until_ctrl_s(user_dir, shipped_bytes):
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(ProfileList)
        listing.highlighted = [item.name for item in listing.items].index("tiny-demo-cpu")
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+u", *"my-new", "enter")
        await settle(pilot)
        target = user_dir / "my-new.toml"
        assert app.screen.is_open and app.screen.dirty and not target.exists()
        assert app.screen.query_one("#field-top-name", Input).value == "my-new"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert on_disk(target)["name"] == "my-new"
        assert not app.screen.dirty
    assert_shipped_untouched(shipped_bytes)


async def test_duplicate_writes_a_copy_and_opens_it(user_dir, shipped_bytes):
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(ProfileList)
        listing.highlighted = [item.name for item in listing.items].index(QLORA_3B)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, NameDialog)
        await pilot.press("enter")
        await settle(pilot)
        copy = user_dir / f"{QLORA_3B}-copy.toml"
        assert on_disk(copy)["name"] == f"{QLORA_3B}-copy"
        assert app.screen.current.path == copy and not app.screen.dirty
    assert_shipped_untouched(shipped_bytes)


async def test_a_file_added_removed_or_changed_while_running_shows_keeping_the_highlight(
    my_profile,
):
    # Seen: a profile file copied into the folder while cockpit ran never appeared.
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(ProfileList)
        listing.highlighted = [item.name for item in listing.items].index("my-3b")
        await pilot.pause()
        added = my_profile.with_name("added-later.toml")
        added.write_text(my_profile.read_text(encoding="utf-8"), encoding="utf-8")
        await wait_for(pilot, lambda: "added-later" in screen_text(app))
        assert listing.selected_name == "my-3b"
        text = my_profile.read_text(encoding="utf-8")
        my_profile.write_text(text.replace("batch_size = 1", "batch_size = 64"), "utf-8")
        await wait_for(pilot, lambda: "won't fit" in listing.selected.assessment.verdict)
        added.unlink()
        await wait_for(pilot, lambda: "added-later" not in screen_text(app))
        assert listing.selected_name == "my-3b"


async def test_the_open_profile_follows_its_file_and_unsaved_edits_are_kept(my_profile):
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await open_profile(pilot, "my-3b")
        text = my_profile.read_text(encoding="utf-8")
        my_profile.write_text(text.replace("grad_accum = 4", "grad_accum = 6"), "utf-8")
        field = app.screen.query_one("#field-train-grad_accum", Input)
        await wait_for(pilot, lambda: field.value == "6")
        assert not app.screen.dirty
        await type_into(pilot, "train.batch_size", "2")
        my_profile.write_text(text.replace("grad_accum = 4", "grad_accum = 9"), "utf-8")
        await wait_for(pilot, lambda: "changed on disk" in screen_text(app))
        assert field.value == "6"  # the form keeps what the user has, edits included
        assert app.screen.dirty
