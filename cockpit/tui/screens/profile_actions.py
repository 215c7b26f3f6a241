"""The file half of the Profiles place: open, save, new, duplicate, delete, revert, leave.

Two promises are kept here. Shipped profiles are never written: saving one asks for a
name and writes a new file in the user's profiles folder. Unsaved edits are never
dropped silently: closing the profile, opening another, going to another place or
quitting first asks save / discard / keep editing. A failed save is a notification and
the form keeps every edit.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.widgets import Static

from cockpit.profiles.store import (
    ProfileError,
    delete_profile,
    duplicate_profile,
    is_shipped,
    load_profile_file,
    new_profile_raw,
    save_profile_file,
    user_profiles_dir,
)
from cockpit.tui.screens.base import PlaceScreen
from cockpit.tui.screens.profile_dialogs import (
    ConfirmDialog,
    LeaveChoice,
    NameDialog,
    UnsavedDialog,
)
from cockpit.tui.widgets.profile_form import ProfileForm
from cockpit.tui.widgets.profile_list import ListedProfile, ProfileList, display_path

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A profile name is also its file name."""


@dataclass
class OpenProfile:
    """The profile in the form and the file behind it."""

    path: Path
    """Where ctrl+s writes; for a shipped profile, the file it came from (never written)."""
    saved: dict[str, Any] | None
    """The raw profile as on disk; None for a new profile not saved yet."""
    shipped: bool = False


class ProfileFileActions(PlaceScreen):
    """File operations of the Profiles place; the screen supplies list, form and estimate."""

    def __init__(self) -> None:
        super().__init__()
        self.current: OpenProfile | None = None
        """The open profile; None while only the list is shown."""
        self._head = Content("")

    if TYPE_CHECKING:  # provided by ProfilesScreen, which owns the list and the form

        def reload_list(self, keep: str | None = None) -> None:
            """Re-read the profile list, keeping `keep` highlighted."""

        def revalidate(self) -> None:
            """Validate the form and re-estimate."""

    @property
    def is_open(self) -> bool:
        return self.current is not None

    @property
    def dirty(self) -> bool:
        """True when the form holds edits that are not on disk."""
        current = self.current
        if current is None:
            return False
        return current.saved is None or self.query_one(ProfileForm).raw != current.saved

    # -- opening and closing ------------------------------------------------------------

    def action_open(self) -> None:
        """Open the highlighted profile in the form."""
        item = self.query_one(ProfileList).selected
        if item is None:
            return
        if item.loaded.raw is None:
            self.notify(item.loaded.error or "cannot read this file", severity="error", timeout=10)
            return
        current = self.current
        if current is not None and current.path == item.entry.path and not self.dirty:
            self.query_one(ProfileForm).focus()
            return
        self.leave_then(lambda: self.open_file(item.entry.path))

    def open_file(self, path: Path) -> None:
        """Load a file into the form (it must parse as TOML)."""
        loaded = load_profile_file(path)
        if loaded.raw is None:
            self.notify(loaded.error or f"cannot read {path}", severity="error", timeout=10)
            return
        self._show_open(OpenProfile(path, copy.deepcopy(loaded.raw), is_shipped(path)), loaded.raw)

    def _show_open(self, current: OpenProfile, raw: dict[str, Any]) -> None:
        self.current = current
        self.set_class(True, "-open")
        form = self.query_one(ProfileForm)
        form.load(raw)
        self.revalidate()
        form.focus_first()
        self.refresh_bindings()

    def action_close(self) -> None:
        """Leave the field being edited; from outside a field, back to the list.

        Out of a field, letters are keys again (p plans for another card, a applies the
        highlighted suggestion as ctrl+f does from anywhere).
        Going back to the list asks first when there are unsaved edits.
        """
        focused = self.focused
        form = self.query_one(ProfileForm)
        if focused is not None and focused is not form and form in focused.ancestors:
            suggestions = self.query_one("#estimate-suggestions")
            (suggestions if suggestions.display else form).focus()
            return
        self.leave_then(self._close)

    def _close(self) -> None:
        self.current = None
        self.set_class(False, "-open")
        self.query_one(ProfileList).focus()
        self.reload_list()
        self.refresh_bindings()

    def leave_then(self, then: Callable[[], None]) -> None:
        """Run ``then`` once the open profile's edits are saved or discarded (or none)."""
        current = self.current
        if current is None or not self.dirty:
            then()
            return

        def chosen(choice: LeaveChoice | None) -> None:
            if choice == "save":
                self.save_then(then)
            elif choice == "discard":
                self._discard()
                then()

        name = self.query_one(ProfileForm).raw.get("name") or current.path.stem
        self.app.push_screen(UnsavedDialog(str(name), current.shipped), chosen)

    def _discard(self) -> None:
        current = self.current
        if current is None or current.saved is None:
            self._close()
            return
        self.query_one(ProfileForm).load(current.saved)
        self.revalidate()

    def action_leave_place(self, mode: str) -> None:
        """Go to another place once unsaved edits are dealt with."""
        self.leave_then(lambda: self.app.switch_mode(mode))

    def action_quit_checked(self) -> None:
        """Quit once unsaved edits are dealt with."""
        self.leave_then(self.app.exit)

    # -- saving -------------------------------------------------------------------------

    def action_save(self) -> None:
        """Save the profile (a shipped one is saved as a new profile of yours)."""
        self.save_then(None)

    def save_then(self, then: Callable[[], None] | None) -> None:
        current = self.current
        if current is None:
            return
        if not current.shipped:
            if self._write(current.path) and then is not None:
                then()
            return

        def named(name: str | None) -> None:
            target = self._target_for(name)
            if target is None:
                return
            self.query_one(ProfileForm).apply_edits({"name": target.stem})
            if self._write(target) and then is not None:
                then()

        self.app.push_screen(
            NameDialog(
                "Save as a new profile",
                f"{current.path.name} is shipped with cockpit and stays as it is. "
                f"Name your copy; it is saved in {user_profiles_dir()}.",
                f"my-{current.path.stem}",
            ),
            named,
        )

    def _target_for(self, name: str | None) -> Path | None:
        """The user file for a new profile name; None (and says why) when it cannot be."""
        if name is None:
            return None
        name = name.removesuffix(".toml")
        if not _NAME.fullmatch(name):
            self.notify(
                f"{name!r} cannot be a profile name: it becomes the file name, so use letters, "
                "digits, '.', '_' and '-'",
                severity="error",
            )
            return None
        target = user_profiles_dir() / f"{name}.toml"
        if target.exists():
            self.notify(f"{target} already exists: choose another name", severity="error")
            return None
        return target

    def _write(self, path: Path) -> bool:
        """Write the form's raw profile to ``path``; on failure say why and keep the edits."""
        raw = self.query_one(ProfileForm).raw
        header = None if path.exists() else "Written by cockpit's profile editor."
        try:
            save_profile_file(path, raw, header=header)
        except ProfileError as exc:
            self.notify(str(exc), title="Not saved", severity="error", timeout=15, markup=False)
            return False
        self.current = OpenProfile(path, copy.deepcopy(raw), shipped=False)
        self.notify(f"Saved {path}")
        self.reload_list(keep=path.stem)
        self.revalidate()
        return True

    # -- new, duplicate, delete, revert ---------------------------------------------------

    def _subject(self) -> ListedProfile | None:
        """What n, d and x act on: the highlighted profile in the list, else (the palette
        or a key from the form) the open profile's file."""
        listing = self.query_one(ProfileList)
        if self.current is None or listing.has_focus:
            return listing.selected
        return next((i for i in listing.items if i.entry.path == self.current.path), None)

    def action_new(self) -> None:
        """Start a new profile from the highlighted one (saved into your folder by ctrl+s)."""
        item = self._subject()
        if item is None or item.loaded.raw is None:
            self.notify("Highlight a readable profile to start from", severity="warning")
            return
        source = item.entry.path

        def named(name: str | None) -> None:
            target = self._target_for(name)
            if target is None:
                return
            try:
                raw = new_profile_raw(source, name=target.stem)
            except ProfileError as exc:
                self.notify(str(exc), severity="error")
                return
            self._show_open(OpenProfile(target, None), raw)
            self.notify(f"New profile from {source.name}: ctrl+s writes {target}")

        self._ask_name("New profile", f"Start from {source.name}.", f"my-{source.stem}", named)

    def action_duplicate(self) -> None:
        """Copy the highlighted profile into your folder under a new name and open it."""
        item = self._subject()
        if item is None or item.loaded.raw is None:
            self.notify("Highlight a readable profile to duplicate", severity="warning")
            return
        source = item.entry.path

        def named(name: str | None) -> None:
            target = self._target_for(name)
            if target is None:
                return
            try:
                duplicate_profile(source, target.stem)
            except ProfileError as exc:
                self.notify(str(exc), severity="error")
                return
            self.reload_list(keep=target.stem)
            self.open_file(target)

        explain = f"Copy {source.name} into {user_profiles_dir()}."
        self._ask_name("Duplicate profile", explain, f"{source.stem}-copy", named)

    def _ask_name(
        self, title: str, explain: str, default: str, then: Callable[[str | None], None]
    ) -> None:
        self.leave_then(lambda: self.app.push_screen(NameDialog(title, explain, default), then))

    def action_delete(self) -> None:
        """Delete the highlighted user profile (asks first; kept as NAME.toml.bak)."""
        item = self._subject()
        if item is None:
            self.notify("Save this profile first: there is no file to delete yet")
            return
        if item.entry.origin == "shipped":
            self.notify(
                f"{item.entry.path.name} is shipped with cockpit and cannot be deleted",
                severity="warning",
            )
            return
        path = item.entry.path

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(path)

        question = f"Delete {path}?\nIt is kept as {path.name}.bak until the next delete."
        if self.current is not None and self.current.path == path and self.dirty:
            question += "\nIts unsaved changes are lost too."
        self.app.push_screen(ConfirmDialog("Delete profile", question, "delete it"), confirmed)

    def _delete(self, path: Path) -> None:
        try:
            backup = delete_profile(path)
        except ProfileError as exc:
            self.notify(str(exc), severity="error")
            return
        if self.current is not None and self.current.path == path:
            self._close()
        self.reload_list()
        self.notify(f"Deleted {path.name} (kept as {backup.name})")

    def action_revert(self) -> None:
        """Throw away the edits and show the saved file again (asks first)."""
        if not self.dirty:
            self.notify("Nothing to revert: the form matches the saved file")
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._discard()
                self.notify("Reverted to the saved file")

        question = "Discard your edits and show the file as saved?"
        self.app.push_screen(ConfirmDialog("Revert", question, "discard edits"), confirmed)

    def show_editor_head(self) -> None:
        """The open file, where ctrl+s writes, and whether there are unsaved edits."""
        current = self.current
        if current is None:
            return
        if current.shipped:
            where = " · shipped, read-only: ctrl+s saves your copy"
        elif current.saved is None:
            where = " · new, ctrl+s writes it"
        else:
            where = f" · {display_path(current.path.parent)}"
        state = ("● unsaved changes", "bold $warning") if self.dirty else ("saved", "$success")
        # one line, cut at the end on a narrow terminal: the state comes before the where
        head = Content.assemble((current.path.name, "bold"), "  ", state, (where, "$text-muted"))
        if head != self._head:  # plain text differs whenever anything shown does
            self._head = head
            self.query_one("#editor-head", Static).update(head)
