"""Profile files: every bad file gives one clear message, saves are atomic, lists find both dirs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.profiles import store as profile_store
from cockpit.profiles.store import (
    DEFAULT_PROFILE,
    ProfileError,
    ProfileSaveError,
    delete_profile,
    duplicate_profile,
    find_profile,
    list_profiles,
    load_profile_file,
    new_profile_raw,
    profile_dirs,
    resolve_data_path,
    save_profile_file,
    shipped_profiles_dir,
    user_profiles_dir,
)
from engines.profile_schema import TINY_DEMO_MODEL

SHIPPED = shipped_profiles_dir()
GRPO_TOY = SHIPPED / "qwen2.5-0.5b-grpo-toy.toml"


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user profiles dir via COCKPIT_CONFIG_DIR."""
    monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config" / "profiles"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


VALID = 'name = "p"\n\n[model]\nname_or_path = "Qwen/Qwen2.5-0.5B-Instruct"\n'


# -- reading -------------------------------------------------------------------------------


def test_a_valid_file_loads(tmp_path):
    loaded = load_profile_file(_write(tmp_path / "p.toml", VALID))
    assert loaded.ok and loaded.error is None and loaded.problems == []
    assert loaded.profile.model.name_or_path == "Qwen/Qwen2.5-0.5B-Instruct"


def test_malformed_toml_names_the_file_line_and_column(tmp_path):
    path = _write(tmp_path / "p.toml", VALID + "\n[train]\nbatch_size = one\n")
    loaded = load_profile_file(path)
    assert loaded.raw is None and loaded.profile is None
    first, shown, caret = loaded.error.splitlines()
    assert first.startswith(f"{path}, line 7, column 14: not valid TOML: Invalid value;")
    assert "text needs double quotes" in first
    assert shown == "  7 | batch_size = one"
    assert caret.index("^") == shown.index("one")


def test_a_duplicated_table_says_so(tmp_path):
    loaded = load_profile_file(_write(tmp_path / "p.toml", VALID + "[model]\n"))
    assert "line 5" in loaded.error and "appears twice" in loaded.error


def test_an_unclosed_list_at_the_end_of_the_file(tmp_path):
    loaded = load_profile_file(_write(tmp_path / "p.toml", VALID + "[lora]\ntarget_modules = [\n"))
    assert "at the end of the file" in loaded.error


def test_a_directory_is_not_a_profile(tmp_path):
    loaded = load_profile_file(tmp_path)
    assert (
        loaded.error == f"{tmp_path} is a directory, not a profile file: choose a .toml file in it"
    )


def test_a_missing_file(tmp_path):
    loaded = load_profile_file(tmp_path / "nope.toml")
    assert loaded.error.startswith(f"{tmp_path / 'nope.toml'}: no such file")


def test_an_unreadable_file(tmp_path, monkeypatch):
    # Simulated: tests may run as root, where chmod 000 does not stop reads.
    path = _write(tmp_path / "p.toml", VALID)

    def refuse(self: Path) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    loaded = load_profile_file(path)
    assert loaded.error.startswith(f"cannot read {path}: permission denied; check its permissions")


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "p.toml"
    path.write_bytes(VALID.encode() + 'description = "café"\n'.encode("latin-1"))
    loaded = load_profile_file(path)
    assert "is not UTF-8 text (byte 0xe9 at line 5, column 19)" in loaded.error
    assert "iconv -f gbk -t utf-8 p.toml" in loaded.error


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "p.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert load_profile_file(path).ok


def test_a_huge_file_is_the_wrong_file(tmp_path):
    path = _write(tmp_path / "data.toml", "# x\n" * 300_000)
    assert "too large to be a profile" in load_profile_file(path).error


def test_problems_come_back_with_the_raw_dict_and_the_file_name(tmp_path):
    path = _write(tmp_path / "p.toml", VALID + "[train]\nbatch_size = 0\n")
    loaded = load_profile_file(path)
    assert loaded.error is None and loaded.profile is None
    assert loaded.raw["train"] == {"batch_size": 0}
    (problem,) = loaded.problems
    assert problem.source == str(path) and problem.key == "train.batch_size"


# -- saving --------------------------------------------------------------------------------


def test_load_save_load_keeps_every_value_and_the_key_order(tmp_path):
    first = load_profile_file(GRPO_TOY)
    copy = tmp_path / "copy.toml"
    save_profile_file(copy, first.raw)
    second = load_profile_file(copy)
    assert second.raw == first.raw and second.profile == first.profile
    assert list(second.raw) == list(first.raw)
    for table in first.raw:
        if isinstance(first.raw[table], dict):
            assert list(second.raw[table]) == list(first.raw[table])


def test_saving_writes_the_documented_key_order(tmp_path):
    raw = {
        "hardware": {"gpus": "auto"},
        "train": {"seed": 1, "batch_size": 2},
        "model": {"dtype": "bf16", "name_or_path": "m"},
        "engine": "sft",
        "name": "p",
    }
    path = tmp_path / "p.toml"
    save_profile_file(path, raw)
    lines = [ln for ln in path.read_text().splitlines() if ln]
    assert lines == [
        'name = "p"',
        'engine = "sft"',
        "[model]",
        'name_or_path = "m"',
        'dtype = "bf16"',
        "[train]",
        "batch_size = 2",
        "seed = 1",
        "[hardware]",
        'gpus = "auto"',
    ]


def test_a_profile_with_problems_is_saved_as_typed(tmp_path):
    raw = {"name": "p", "model": {"name_or_path": "m"}, "train": {"batch_size": -1, "grad_acum": 4}}
    path = tmp_path / "p.toml"
    save_profile_file(path, raw)
    loaded = load_profile_file(path)
    assert loaded.raw == raw
    assert {p.key for p in loaded.problems} == {"train.batch_size", "train.grad_acum"}


def test_the_previous_version_is_kept_as_bak(tmp_path):
    path = _write(tmp_path / "p.toml", VALID)
    save_profile_file(path, {"name": "second", "model": {"name_or_path": "m"}})
    assert (tmp_path / "p.toml.bak").read_text() == VALID
    assert load_profile_file(path).profile.name == "second"


def test_the_leading_comment_block_survives_a_save(tmp_path):
    path = _write(tmp_path / "p.toml", "# where this comes from\n# line two\n" + VALID)
    save_profile_file(path, load_profile_file(path).raw)
    assert path.read_text().startswith("# where this comes from\n# line two\n\nname = ")


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = _write(tmp_path / "p.toml", VALID)

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ProfileSaveError, match="No space left on device; your edits are not lost"):
        save_profile_file(path, {"name": "new", "model": {"name_or_path": "m"}})
    assert path.read_text() == VALID
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml", "p.toml.bak"]


def test_saving_into_a_read_only_folder_says_where_to_save_instead(tmp_path, monkeypatch, user_dir):
    # Simulated: as root a read-only folder is still writable.
    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    path = tmp_path / "shipped" / "p.toml"
    with pytest.raises(ProfileSaveError) as caught:
        save_profile_file(path, {"name": "p"})
    message = str(caught.value)
    assert message.startswith(f"cannot save {path}: permission denied, the folder ")
    assert f"or save it under another name in {user_dir};" in message
    assert message.endswith("your edits are not lost")
    assert not path.exists()


@pytest.mark.parametrize(
    ("error", "why"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "is not writable"),
        (OSError(errno.EROFS, "Read-only file system"), "is on a read-only file system"),
    ],
    ids=["permission", "read-only-fs"],
)
def test_a_read_only_config_folder_names_it_and_the_way_out(monkeypatch, user_dir, error, why):
    def refuse(*args, **kwargs):  # simulated: as root a read-only folder is still writable
        raise error

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    path = user_dir / "mine.toml"
    with pytest.raises(ProfileSaveError) as caught:
        save_profile_file(path, {"name": "mine"})
    message = str(caught.value)
    assert f"the folder {user_dir} {why}" in message
    assert "COCKPIT_CONFIG_DIR" in message
    assert "another name" not in message  # the same folder would refuse it too
    assert message.endswith("your edits are not lost")


def test_a_config_folder_under_a_file_says_which_file_is_in_the_way(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(blocker))
    path = user_profiles_dir() / "mine.toml"
    with pytest.raises(ProfileSaveError) as caught:
        save_profile_file(path, {"name": "mine"})
    message = str(caught.value)
    assert f"{blocker} is a file, not a folder" in message
    assert "COCKPIT_CONFIG_DIR" in message and "another name" not in message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_saving_into_a_really_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ProfileSaveError, match="permission denied"):
            save_profile_file(folder / "p.toml", {"name": "p"})
    finally:
        folder.chmod(0o755)


def test_a_value_toml_cannot_hold_is_named_before_anything_is_written(tmp_path):
    path = tmp_path / "p.toml"
    with pytest.raises(ProfileSaveError, match=r"train\.batch_size = None is not a TOML value"):
        save_profile_file(path, {"name": "p", "train": {"batch_size": None}})
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_directory_is_refused(tmp_path):
    with pytest.raises(ProfileSaveError, match="it is a directory"):
        save_profile_file(tmp_path, {"name": "p"})


def test_saving_creates_the_user_folder(user_dir):
    save_profile_file(user_dir / "p.toml", {"name": "p", "model": {"name_or_path": "m"}})
    assert load_profile_file(user_dir / "p.toml").ok


# -- where profiles live -------------------------------------------------------------------


def test_profile_dirs_are_the_shipped_and_the_user_folder(user_dir):
    assert profile_dirs() == [("shipped", SHIPPED), ("user", user_dir)]
    assert (SHIPPED / f"{DEFAULT_PROFILE}.toml").is_file()


def test_list_finds_shipped_and_user_profiles_default_first(user_dir):
    _write(user_dir / "my-run.toml", VALID)
    _write(user_dir / "my-run.toml.bak", VALID)
    _write(user_dir / ".my-run.toml.123.tmp", VALID)
    entries = list_profiles()
    names = [e.name for e in entries]
    assert names[0] == DEFAULT_PROFILE
    assert names[1:] == sorted(names[1:], key=str.casefold)
    assert {"my-run", "qwen2.5-0.5b-grpo-toy", "lora-r8-smoke-test"} <= set(names)
    mine = next(e for e in entries if e.name == "my-run")
    assert (mine.origin, mine.path) == ("user", user_dir / "my-run.toml")
    assert len(names) == len(set(names))


def test_a_user_profile_shadows_the_shipped_one_of_the_same_name(user_dir):
    _write(user_dir / f"{DEFAULT_PROFILE}.toml", VALID)
    (entry,) = [e for e in list_profiles() if e.name == DEFAULT_PROFILE]
    assert entry.origin == "user" and entry.path.parent == user_dir


def test_find_profile_by_name_or_path(user_dir, tmp_path):
    assert find_profile("qwen2.5-0.5b-grpo-toy") == GRPO_TOY
    assert find_profile("qwen2.5-0.5b-grpo-toy.toml") == GRPO_TOY
    elsewhere = _write(tmp_path / "x.toml", VALID)
    assert find_profile(str(elsewhere)) == elsewhere
    assert find_profile("no-such-profile") is None


# -- new, duplicate, delete ----------------------------------------------------------------


def test_a_new_profile_starts_from_the_default():
    raw = new_profile_raw(name="mine")
    assert raw["name"] == "mine"
    assert raw["model"]["name_or_path"] == TINY_DEMO_MODEL


def test_a_new_profile_from_a_shipped_one_is_an_independent_copy():
    raw = new_profile_raw(GRPO_TOY)
    raw["grpo"]["rewards"].append("x")
    assert load_profile_file(GRPO_TOY).raw["grpo"]["rewards"] == ["format", "exact_match"]


def test_a_new_profile_from_an_unreadable_file_says_why(tmp_path):
    with pytest.raises(ProfileError, match="no such file"):
        new_profile_raw(tmp_path / "missing.toml")


def test_without_shipped_profiles_a_new_profile_is_still_valid(tmp_path, monkeypatch):
    monkeypatch.setattr(profile_store, "shipped_profiles_dir", lambda: tmp_path)
    raw = new_profile_raw(name="fresh")
    path = tmp_path / "fresh.toml"
    save_profile_file(path, raw)
    assert load_profile_file(path).ok


def test_duplicate_goes_to_the_user_folder_renamed_and_finds_its_data(user_dir):
    dest = duplicate_profile(GRPO_TOY, "my-grpo")
    assert dest == user_dir / "my-grpo.toml"
    loaded = load_profile_file(dest)
    assert loaded.ok and loaded.profile.name == "my-grpo"
    assert loaded.profile.grpo == load_profile_file(GRPO_TOY).profile.grpo
    assert dest.read_text().splitlines()[0].startswith("# qwen2.5-0.5b-grpo-toy")
    assert resolve_data_path(loaded.profile, dest) == SHIPPED / "data" / "grpo-toy.jsonl"


def test_duplicate_refuses_to_overwrite_or_a_bad_file_name(user_dir):
    duplicate_profile(GRPO_TOY, "mine")
    with pytest.raises(ProfileSaveError, match="already exists"):
        duplicate_profile(GRPO_TOY, "mine")
    with pytest.raises(ProfileSaveError, match="letters, digits"):
        duplicate_profile(GRPO_TOY, "../escape")


def test_shipped_profiles_cannot_be_deleted():
    with pytest.raises(ProfileError, match="is a shipped profile and cannot be deleted"):
        delete_profile(GRPO_TOY)
    assert GRPO_TOY.is_file()


def test_deleting_a_user_profile_keeps_a_bak(user_dir):
    path = _write(user_dir / "mine.toml", VALID)
    backup = delete_profile(path)
    assert not path.exists() and backup.read_text() == VALID
    assert "mine" not in [e.name for e in list_profiles()]


# -- data paths ----------------------------------------------------------------------------


def _profile_with_data(tmp_path: Path, data_path: str):
    raw = {"name": "p", "model": {"name_or_path": "m"}, "data": {"path": data_path}}
    path = tmp_path / "profiles" / "p.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(raw))
    return load_profile_file(path).profile, path


def test_data_path_relative_to_the_profile_file_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "profiles" / "d.jsonl", "{}\n")
    _write(tmp_path / "d.jsonl", "{}\n")
    profile, path = _profile_with_data(tmp_path, "d.jsonl")
    assert resolve_data_path(profile, path) == (tmp_path / "profiles" / "d.jsonl").resolve()


def test_data_path_then_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "data" / "d.jsonl", "{}\n")
    profile, path = _profile_with_data(tmp_path, "data/d.jsonl")
    assert resolve_data_path(profile, path) == (tmp_path / "data" / "d.jsonl").resolve()


def test_a_dataset_id_stays_a_string(tmp_path):
    profile, path = _profile_with_data(tmp_path, "trl-lib/Capybara")
    assert resolve_data_path(profile, path) == "trl-lib/Capybara"


def test_a_missing_local_file_points_next_to_the_profile(tmp_path):
    profile, path = _profile_with_data(tmp_path, "mine/train.jsonl")
    assert resolve_data_path(profile, path) == (path.parent / "mine" / "train.jsonl").resolve()


def test_without_a_data_table_the_demo_data_is_used(tmp_path):
    path = _write(tmp_path / "p.toml", VALID)
    profile = load_profile_file(path).profile
    assert resolve_data_path(profile, path) == SHIPPED / "data" / "demo.jsonl"


def test_an_absolute_data_path_is_kept(tmp_path):
    profile, path = _profile_with_data(tmp_path, str(tmp_path / "x.jsonl"))
    assert resolve_data_path(profile, path) == tmp_path / "x.jsonl"


@pytest.mark.slow
def test_the_store_imports_neither_textual_nor_the_gpu_stack():
    code = "import sys, json, cockpit.profiles.store; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in json.loads(out.stdout)}
    assert not loaded & {"textual", "torch", "transformers", "peft", "trl", "pynvml", "psutil"}


_toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=10),
)
_toml_values = st.recursive(
    _toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["name", "engine", "model", "train", "lora", "zzz", "x"]),
        _toml_values,
        max_size=6,
    )
)
def test_whatever_toml_can_hold_saves_and_loads_back_unchanged(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.toml"
        save_profile_file(path, raw)
        save_profile_file(path, raw)
        loaded = load_profile_file(path)
        assert loaded.error is None and loaded.raw == raw
