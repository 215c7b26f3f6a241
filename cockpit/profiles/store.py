"""Profile files on disk: read, write atomically, list, duplicate and delete.

Nothing a user points at makes these functions raise while reading: a missing file, a
directory, an unreadable or non-UTF-8 file, or malformed TOML comes back as
`LoadedProfile.error`, one message naming the file (and line/column) and how to fix it.
Writing raises `ProfileSaveError` with such a message; the caller keeps its raw dict, so
nothing typed is lost.

Where profiles live: the shipped ones in the repository's `profiles/` (a wheel installs them
inside the package as `cockpit/shipped_profiles/`), the user's in `<config dir>/profiles`
(platformdirs, or `$COCKPIT_CONFIG_DIR/profiles`). A user file with the same file name
shadows a shipped one.

Saving: tomli-w writes the values in the documented key order (top-level keys, then
[model], [lora], [data], [train], [grpo], [env], [hardware]; unknown keys are kept after
the known ones). Raw dicts with problems can be saved, so what the user typed is kept, but
every value must be a TOML value (no None). The leading comment block of the file being
replaced is kept; other comments are not (tomli-w writes data only). The write goes to a
temp file in the same folder, is fsynced, then replaces the target with `os.replace`; the
previous version is kept as `NAME.toml.bak`.
"""

from __future__ import annotations

import copy
import errno
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomli_w

from cockpit.atomic import write_atomic
from cockpit.paths import CONFIG_DIR_ENV, file_in_the_way, shipped_profiles_dir, user_profiles_dir
from cockpit.profiles.files import read_profile_text, toml_error_message, unserialisable
from cockpit.profiles.validate import Problem, parse_profile, profile_to_raw
from engines.profile_schema import SECTIONS, TINY_DEMO_MODEL, ModelSection, Profile, table_keys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_PROFILE = "tiny-demo-cpu"
"""File name (without .toml) of the profile cockpit opens when none is chosen."""

Origin = Literal["shipped", "user"]
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class ProfileError(Exception):
    """A profile file operation that could not be done; the message says why and what to do."""


class ProfileSaveError(ProfileError):
    """A profile could not be written; the caller still has the raw dict."""


@dataclass(frozen=True)
class LoadedProfile:
    """A profile file as read: the raw dict for the editor, the typed profile if valid."""

    path: Path
    raw: dict[str, Any] | None
    """The TOML as read; None when the file could not be read or parsed (see `error`)."""
    profile: Profile | None
    """None when the file has errors (see `error` and `problems`)."""
    problems: list[Problem]
    error: str | None
    """Why the file could not be read or parsed as TOML; None when it could."""

    @property
    def ok(self) -> bool:
        """True when the file loaded into a Profile (warnings allowed)."""
        return self.error is None and self.profile is not None


@dataclass(frozen=True)
class ProfileEntry:
    """One profile file found by `list_profiles`."""

    name: str
    """The file name without .toml (what the list shows and `find_profile` accepts)."""
    path: Path
    origin: Origin


# -- reading --------------------------------------------------------------------------


def load_profile_file(path: str | os.PathLike[str]) -> LoadedProfile:
    """Read and validate one profile file; never raises for bad files or bad content."""
    path = Path(path)
    text, error = read_profile_text(path)
    if text is None:
        return LoadedProfile(path, None, None, [], error)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return LoadedProfile(path, None, None, [], toml_error_message(exc, text, path))
    except RecursionError:
        return LoadedProfile(path, None, None, [], f"{path}: nested too deeply to be a profile")
    profile, problems = parse_profile(raw, source=str(path))
    return LoadedProfile(path, raw, profile, problems, None)


ProfileSource = str | os.PathLike[str] | LoadedProfile
"""A profile file's path, or the file already loaded (the launch path loads it once)."""


def loaded_profile(source: ProfileSource) -> LoadedProfile:
    """`source` itself when it is already loaded, else the file it names, read now."""
    return source if isinstance(source, LoadedProfile) else load_profile_file(source)


# -- writing --------------------------------------------------------------------------


def save_profile_file(
    path: str | os.PathLike[str], raw: Mapping[str, Any], *, header: str | None = None
) -> None:
    """Write `raw` as TOML atomically, keeping the previous file as NAME.toml.bak.

    `header`: comment lines for the top of the file; None keeps the current file's.
    Raises ProfileSaveError (nothing on disk changed) when it cannot.
    """
    path = Path(path)
    ordered = _ordered(raw)
    bad = unserialisable(ordered)
    if bad is not None:
        key, value = bad
        raise ProfileSaveError(
            f"cannot save {path}: {key} = {value!r} is not a TOML value "
            "(TOML has no empty value: remove the key to use its default)"
        )
    text = _comment_block(path) if header is None else _as_comments(header)
    try:
        data = (text + tomli_w.dumps(ordered)).encode("utf-8")
    except (TypeError, ValueError) as exc:  # e.g. a lone surrogate from a pasted string
        raise ProfileSaveError(f"cannot save {path}: {exc}") from exc
    _write_atomic(path, data)


def _ordered(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Known keys in file order, then the unknown ones as typed; tables after values."""
    known = [k for k in table_keys("") if k in raw]
    extra = [k for k in raw if k not in known and k not in SECTIONS]
    plain = [k for k in extra if not isinstance(raw[k], Mapping)]
    tables = [k for k in extra if isinstance(raw[k], Mapping)]
    ordered = {k: raw[k] for k in known + plain}
    for name in SECTIONS:
        if name in raw:
            ordered[name] = _ordered_table(raw[name], table_keys(name))
    ordered.update((k, raw[k]) for k in tables)
    return ordered


def _ordered_table(table: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(table, Mapping):
        return table
    first = {k: table[k] for k in keys if k in table}
    return first | {k: v for k, v in table.items() if k not in first}


def _comment_block(path: Path) -> str:
    """The comment lines at the top of the existing file ("" if none or unreadable)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    block = []
    for line in lines:
        if not line.startswith("#"):
            break
        block.append(line)
    return "\n".join(block) + "\n\n" if block else ""


def _as_comments(header: str) -> str:
    lines = [ln if ln.startswith("#") else f"# {ln}".rstrip() for ln in header.splitlines()]
    return "\n".join(lines) + "\n\n" if lines else ""


def _write_atomic(path: Path, data: bytes) -> None:
    """Atomic replace (see cockpit.atomic), keeping the old file as .bak."""
    if path.is_dir():
        raise ProfileSaveError(f"cannot save {path}: it is a directory; choose a .toml file name")
    try:
        write_atomic(path, data, backup=True)
    except OSError as exc:
        raise ProfileSaveError(_save_failure(path, exc)) from exc


def _save_failure(path: Path, exc: OSError) -> str:
    """What went wrong and the way out, naming the folder (the edits stay in the editor)."""
    folder, kept = path.parent, "your edits are not lost"
    ours = os.path.abspath(folder) == os.path.abspath(user_profiles_dir())
    elsewhere = (
        f"set {CONFIG_DIR_ENV} to a writable folder"
        if ours
        else f"save it under another name in {user_profiles_dir()}"
    )
    blocker = file_in_the_way(folder)
    if blocker is not None:
        return (
            f"cannot save {path}: {blocker} is a file, not a folder, so the folder {folder} "
            f"cannot be made. Move that file away, or {elsewhere}; {kept}"
        )
    if exc.errno == errno.EROFS:
        return (
            f"cannot save {path}: the folder {folder} is on a read-only file system. Remount "
            f"it writable, or {elsewhere}; {kept}"
        )
    if isinstance(exc, PermissionError):
        return (
            f"cannot save {path}: permission denied, the folder {folder} is not writable. "
            f"Make it writable (chmod u+w {folder}), or {elsewhere}; {kept}"
        )
    return f"cannot save {path}: {exc.strerror or exc}; {kept}"


# -- where profiles live --------------------------------------------------------------


def profile_dirs() -> list[tuple[Origin, Path]]:
    """Where profiles are looked for, lowest precedence first."""
    return [("shipped", shipped_profiles_dir()), ("user", user_profiles_dir())]


def is_shipped(path: str | os.PathLike[str]) -> bool:
    """True for a file inside the shipped profiles folder."""
    return Path(path).resolve().is_relative_to(shipped_profiles_dir().resolve())


def list_profiles() -> list[ProfileEntry]:
    """Shipped and user profiles (a user file shadows a shipped one of the same file name),
    the default profile first, then by name."""
    found: dict[str, ProfileEntry] = {}
    for origin, directory in profile_dirs():
        for path in _toml_files(directory):
            found[path.stem] = ProfileEntry(path.stem, path, origin)
    return sorted(found.values(), key=lambda e: (e.name != DEFAULT_PROFILE, e.name.casefold()))


def _toml_files(directory: Path) -> list[Path]:
    try:
        return sorted(
            p for p in directory.glob("*.toml") if p.is_file() and not p.name.startswith(".")
        )
    except OSError:
        return []


def find_profile(ref: str | os.PathLike[str]) -> Path | None:
    """A profile file from a path or a listed name ("tiny-demo-cpu"); None if neither."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    name = path.name.removesuffix(".toml")
    return next((e.path for e in list_profiles() if e.name == name), None)


# -- new, duplicate, delete -----------------------------------------------------------


def new_profile_raw(
    from_path: str | os.PathLike[str] | None = None, *, name: str | None = None
) -> dict[str, Any]:
    """A raw dict to start a new profile from: a copy of `from_path`, else of the default.

    Raises ProfileError when `from_path` cannot be read; with no `from_path` and no
    readable default profile, a minimal valid profile is returned.
    """
    source = Path(from_path) if from_path else shipped_profiles_dir() / f"{DEFAULT_PROFILE}.toml"
    loaded = load_profile_file(source)
    if loaded.raw is not None:
        raw = copy.deepcopy(loaded.raw)
    elif from_path:
        raise ProfileError(loaded.error or f"cannot read {source}")
    else:
        raw = profile_to_raw(Profile(name="new-profile", model=ModelSection(TINY_DEMO_MODEL)))
    if name is not None:
        raw["name"] = name
    return raw


def duplicate_profile(
    src: str | os.PathLike[str], new_name: str, *, dest_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Copy a profile into the user folder (or `dest_dir`) as NEW_NAME.toml, named NEW_NAME.

    Relative data paths keep working: they also resolve against the shipped folder.
    """
    new_name = new_name.strip().removesuffix(".toml")
    if not _FILE_NAME.fullmatch(new_name):
        raise ProfileSaveError(
            f"{new_name!r} cannot be a profile name: it becomes the file name, so use letters, "
            "digits, '.', '_' and '-' (e.g. my-3b-qlora)"
        )
    dest = Path(dest_dir or user_profiles_dir()) / f"{new_name}.toml"
    if dest.exists():
        raise ProfileSaveError(f"{dest} already exists: choose another name")
    raw = new_profile_raw(src, name=new_name)
    header = _comment_block(Path(src)) + f"# Duplicated from {Path(src).name}."
    save_profile_file(dest, raw, header=header)
    return dest


def delete_profile(path: str | os.PathLike[str]) -> Path:
    """Delete a user profile by moving it to NAME.toml.bak (recoverable); returns that path.

    Shipped profiles are refused with a ProfileError.
    """
    path = Path(path)
    if is_shipped(path):
        raise ProfileError(
            f"{path.name} is a shipped profile and cannot be deleted; "
            "duplicate it to make your own copy"
        )
    if not path.is_file():
        raise ProfileError(f"{path}: no such profile file")
    backup = path.with_name(path.name + ".bak")
    try:
        os.replace(path, backup)
    except OSError as exc:
        raise ProfileError(f"cannot delete {path}: {exc.strerror or exc}") from exc
    return backup


# -- data paths -----------------------------------------------------------------------

_LOCAL_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow", ".txt")


def resolve_data_path(profile: Profile, profile_path: str | os.PathLike[str] | None) -> Path | str:
    """`[data] path` as a local file, or unchanged as a dataset id (a str).

    A relative path is looked up in the profile file's folder, then the current folder,
    then the shipped profiles folder (so copies of shipped profiles find the demo data).
    A path that exists nowhere but looks like a file resolves against the profile's
    folder, so the error names where it was expected.
    """
    text = profile.data.path
    candidate = Path(text).expanduser()
    if candidate.is_absolute():
        return candidate
    bases = [Path(profile_path).parent] if profile_path else []
    bases += [Path.cwd(), shipped_profiles_dir()]
    for base in bases:
        if (base / candidate).exists():
            return (base / candidate).resolve()
    if text.startswith((".", "~")) or "\\" in text or text.lower().endswith(_LOCAL_SUFFIXES):
        return (bases[0] / candidate).resolve()
    return text
