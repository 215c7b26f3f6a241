"""Where cockpit keeps things, and the environment variables that move them.

One home for the folders that settings, the profile store and the run store all need: the
config folder (settings.toml, the user's profiles), the runs folder and the shipped
profiles. It imports no other cockpit module, so everything can stand on it and nothing
goes round in a circle to learn where a folder is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import platformdirs

CONFIG_DIR_ENV = "COCKPIT_CONFIG_DIR"
"""Overrides the user config folder (settings.toml, profiles/); used by tests and demos."""
RUNS_DIR_ENV = "COCKPIT_RUNS_DIR"
"""Overrides where runs are kept (tests, demos, a bigger disk)."""


def config_dir() -> Path:
    """`$COCKPIT_CONFIG_DIR`, else the platform's user config folder for cockpit."""
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override).expanduser() if override else platformdirs.user_config_path("cockpit")


def user_profiles_dir() -> Path:
    """`<user config dir>/profiles`, or `$COCKPIT_CONFIG_DIR/profiles`."""
    return config_dir() / "profiles"


def runs_root() -> Path:
    """Where runs live: `$COCKPIT_RUNS_DIR`, else the user data dir's `runs`."""
    override = os.environ.get(RUNS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_data_path("cockpit") / "runs"


def shipped_profiles_dir() -> Path:
    """The shipped profiles: `cockpit/shipped_profiles/` when installed from a wheel (the
    repository's `profiles/` mapped there by pyproject.toml), else that `profiles/` next to
    the package (a source checkout, editable install included)."""
    package = Path(__file__).resolve().parent
    installed = package / "shipped_profiles"
    return installed if installed.is_dir() else package.parent / "profiles"


def file_in_the_way(folder: Path) -> Path | None:
    """What stops `folder` from being (or becoming) a folder: `folder` itself or its nearest
    existing parent when that is a file; None when nothing is in the way."""
    for path in (folder, *folder.parents):
        try:
            info = path.stat()
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                continue  # missing (it can be made), or under a file: look further up
            return None  # unreadable: say nothing rather than guess
        return None if stat.S_ISDIR(info.st_mode) else path
    return None
