"""The launch pane: pick a profile, read its pre-flight verdict and the command that will run.

The verdict comes from `cockpit.runs.launch_check` (computed in the screen's worker):
every refusal with its profile key and fix (the pip command when the training stack is
missing), the fallbacks the engine will take, the VRAM verdict and notes. Starting is the
screen's job (`s`, `f`).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.profiles.store import ProfileEntry
from cockpit.runs.launch_check import FORCE_KEY, LaunchCheck
from cockpit.tui.widgets.profile_list import verdict_style


def _key(key: str, what: str) -> Content:
    return Content.assemble((key, "bold $accent"), f" {what}")


def launch_keys(check: LaunchCheck | None) -> Content:
    """The keys that work for this verdict."""
    keys = [_key("s", "start")] if check is None or check.ok else []
    if check is not None and check.forcible:
        keys.append(_key("f", "start anyway (asks first)"))
    keys.append(
        _key("c", "copy the batch script" if check and check.script else "copy the command")
    )
    return Content("  ·  ").join(keys)


def _refusal_lines(check: LaunchCheck) -> list[Content]:
    lines = [Content.styled("✗ refused to start", "bold $error")]
    for refusal in check.preflight.refusals:
        lines.append(Content.assemble("  ", (f"{refusal.where}{refusal.message}", "bold")))
        lines.append(Content.assemble("    fix: ", (refusal.fix_for(FORCE_KEY), "$success")))
        if refusal.catalog_id:  # the id `cockpit explain` gives the log of such a failed run
            lines.append(Content.styled(f"    known cause: {refusal.catalog_id}", "$text-muted"))
    return lines


def verdict_content(check: LaunchCheck) -> Content:
    """Ready or refused (with every reason and its fix), the VRAM verdict, the warnings of
    fallbacks the engine will take, and notes."""
    lines: list[Content] = []
    if check.ok:
        lines.append(Content.styled("✓ ready to start", "bold $success"))
    if check.preflight.refusals:
        lines += _refusal_lines(check)
    verdict = check.preflight.verdict
    if verdict == "no GPU":
        lines.append(
            Content.styled("VRAM: no GPU detected, nothing to check against", "$text-muted")
        )
    elif verdict:
        style = verdict_style(verdict)
        card = f" on a {check.gpu_gib:.1f} GiB GPU" if check.gpu_gib else ""
        lines.append(Content.assemble("VRAM: ", (verdict, f"bold {style}"), card))
    for note in check.preflight.notes:  # a fallback the engine will take says "warning: …"
        warned = note.startswith("warning:")
        lines.append(
            Content.styled(
                note if warned else f"note: {note}", "$warning" if warned else "$text-muted"
            )
        )
    return Content("\n").join(lines)


def command_content(check: LaunchCheck) -> Content:
    """The exact engine command (a Slurm run: the batch script it submits), and the same
    start from a shell."""
    script = ("\n", (check.script.rstrip("\n"), "")) if check.script else ()
    return Content.assemble(
        ("Will run\n", "$text-muted"),
        (check.command, "bold"),
        *script,
        ("\nFrom a shell: ", "$text-muted"),
        (check.twin, "bold"),
    )


class LaunchPane(VerticalScroll):
    """Profile choice, pre-flight verdict, command, keys."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[ProfileEntry] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="launch-profiles")
        yield Static(id="launch-verdict")
        yield Static(id="launch-command")
        yield Static(launch_keys(None), id="launch-keys")

    def on_mount(self) -> None:
        self.border_title = "New run"
        self.query_one("#launch-profiles").border_title = "Profile"

    def show_profiles(self, entries: Sequence[ProfileEntry], default: str = "") -> None:
        """List these profiles, keeping the highlighted one (at first: `default`, if listed)."""
        current = self.selected_entry
        self.entries = list(entries)
        options = self.query_one("#launch-profiles", OptionList)
        options.set_options(
            Option(
                Content.assemble((e.name, "bold"), (f"  {e.origin}", "$text-muted")),
                id=e.name,
            )
            for e in self.entries
        )
        names = [e.name for e in self.entries]
        if not names:
            missing = "No profiles found: create one in the Profiles place (3)."
            self.query_one("#launch-verdict", Static).update(Content.styled(missing, "$warning"))
        else:
            first = default if default in names else names[0]
            keep = current.name if current is not None and current.name in names else first
            options.highlighted = names.index(keep)

    @property
    def selected_entry(self) -> ProfileEntry | None:
        """The highlighted profile."""
        index = self.query_one("#launch-profiles", OptionList).highlighted
        if index is None or index >= len(self.entries):
            return None
        return self.entries[index]

    def show_checking(self, entry: ProfileEntry) -> None:
        """Say that the highlighted profile is being checked."""
        self.query_one("#launch-verdict", Static).update(
            Content.styled(f"checking {entry.name}…", "$text-muted")
        )

    def show_check(self, check: LaunchCheck) -> None:
        """Show a finished pre-flight."""
        self.query_one("#launch-verdict", Static).update(verdict_content(check))
        self.query_one("#launch-command", Static).update(command_content(check))
        self.query_one("#launch-keys", Static).update(launch_keys(check))
