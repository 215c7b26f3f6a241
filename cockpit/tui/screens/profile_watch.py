"""Profile files changed while cockpit runs: an editor, `cp`, a `git pull` in the folder.

A file added, removed or rewritten in the profiles folders shows up in the list within a
second while the Profiles place is on screen, and at once on coming back to it; the
highlight stays on the same profile. The folders' names, sizes and modification times are
compared on a timer (a directory listing and a few `stat` calls), so no file-watching
dependency is needed. The open profile follows its file when it has no unsaved edits;
with edits, they are kept and the user is told.
"""

from __future__ import annotations

import copy

from textual.timer import Timer

from cockpit.profiles.store import list_profiles, load_profile_file
from cockpit.tui.screens.profile_actions import ProfileFileActions
from cockpit.tui.widgets.profile_form import ProfileForm

FILES_POLL_S = 1.0
"""How often the profiles folders are checked while the place is on screen."""

FilesState = tuple[tuple[str, int, int], ...]


def files_state() -> FilesState:
    """Every listed profile file with its modification time and size: it differs as soon
    as a file is added, removed or rewritten."""
    state = []
    for entry in list_profiles():
        try:
            stat = entry.path.stat()
        except OSError:
            continue
        state.append((str(entry.path), stat.st_mtime_ns, stat.st_size))
    return tuple(state)


class ProfileFilesWatch(ProfileFileActions):
    """Keeps the Profiles place in step with its folders (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.listed_state: FilesState = ()
        """The profile files as the list last read them (set by the screen's reload)."""
        self._files_timer: Timer | None = None

    def watch_files(self) -> None:
        """Start checking the folders every FILES_POLL_S."""
        self._files_timer = self.set_interval(FILES_POLL_S, self.check_files, name="profile-files")

    def on_screen_suspend(self) -> None:
        if self._files_timer is not None:
            self._files_timer.pause()

    def on_screen_resume(self) -> None:
        if self._files_timer is not None:
            self.check_files()
            self._files_timer.resume()

    def check_files(self) -> None:
        """Re-read the list when a profile file was added, removed or changed, and bring
        the open profile up to date with its file."""
        if files_state() == self.listed_state:
            return
        self.reload_list()
        self._open_file_changed()

    def _open_file_changed(self) -> None:
        current = self.current
        if current is None or current.saved is None:
            return
        raw = load_profile_file(current.path).raw
        if raw is None or raw == current.saved:
            return  # gone or unreadable: the form keeps it, ctrl+s writes it again
        dirty = self.dirty
        current.saved = copy.deepcopy(raw)
        name = current.path.name
        if dirty:
            self.revalidate()
            self.notify(
                f"{name} changed on disk. Your edits are kept: ctrl+s overwrites the file "
                "with them, ctrl+z shows the file as it is now.",
                severity="warning",
                timeout=15,
            )
            return
        self.query_one(ProfileForm).load(raw)
        self.revalidate()
        self.notify(f"{name} changed on disk: reloaded")
