"""The Profiles place: "will this config fit, and what should I change?"

Left, every profile with its verdict for the planned card; in the middle, the open
profile as a form; right, its estimate, recomputed on every change (an estimate takes a
few milliseconds), with suggestions that one key applies. Planning for the detected GPU,
the form also flags what that card cannot do (FlashAttention 2 or bf16 before Ampere) with
the catalog ids pre-flight refuses or warns with. The file operations and the
"unsaved changes" questions live in `ProfileFileActions`, files changed by someone else in
`ProfileFilesWatch`; this module lays the place out and keeps list, form and estimate in
step.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList, Select, Static

from cockpit.hardware.snapshot import GpuTraits, MachineSnapshot, gpu_traits, largest_gpu
from cockpit.profiles.fields import field_notes
from cockpit.profiles.gpu_rules import gpu_problems
from cockpit.profiles.plan import (
    PRESET_GIB,
    Assessment,
    Card,
    assess,
    assess_file,
    detected_card,
    preset_card,
)
from cockpit.profiles.store import list_profiles, load_profile_file
from cockpit.profiles.validate import parse_profile
from cockpit.runs.model_source import model_problems
from cockpit.tui.places import PLACES
from cockpit.tui.screens.base import SETTINGS_KEY
from cockpit.tui.screens.profile_actions import OpenProfile
from cockpit.tui.screens.profile_watch import ProfileFilesWatch, files_state
from cockpit.tui.widgets.estimate_pane import EstimatePane
from cockpit.tui.widgets.profile_form import ProfileForm
from cockpit.tui.widgets.profile_list import (
    ListedProfile,
    ProfileList,
    display_path,
    verdict_style,
)

ROOMY_WIDTH = 160
"""From this many columns the list stays beside an open profile's form and estimate."""
MAX_GIB = 10_000
FORM_STEP_GAP_S = 0.25
"""While another place shows, the form mounts a step (a few rows) per this many seconds:
in within ~7 s of the first visit, and a key pressed meanwhile waits ~40 ms at most."""
_PLAN_OPTIONS: list[tuple[str, str]] = [
    ("detected GPU", "detected"),
    ("type a size…", "custom"),  # second: a long list scrolls, and this must be seen
    *((f"{gib:g} GiB", f"{gib:g}") for gib in PRESET_GIB),
]


def typed_gib(text: str) -> float | str | None:
    """The card size typed in "plan for": GiB, or what is wrong with it (None: nothing
    typed yet)."""
    text = text.strip()
    if not text:
        return None
    try:
        gib = float(text.removesuffix("GiB").removesuffix("G").strip())
    except ValueError:
        return f"{text!r} is not a number: type the card's GiB, e.g. 11 or 7.5"
    if not 0 < gib < MAX_GIB:  # nan fails this too
        return f"{text!r}: type more than 0 and less than {MAX_GIB} GiB"
    return gib


def _leave_bindings() -> list[Binding]:
    """Place keys and q, taken over only while there are unsaved edits (see check_action)."""
    keys = [
        Binding(p.key, f"leave_place('{p.mode}')", f"Go to {p.title}", show=False)
        for p in PLACES
        if p.mode != "profiles"
    ]
    return [*keys, Binding("q", "quit_checked", "Quit")]


class ProfilesScreen(ProfileFilesWatch):
    """Profile list, form and live estimate."""

    PLACE = "profiles"
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]
    # The footer shows keys that work from where the focus is: in a text field letters type,
    # so the open profile's keys are ctrl chords there (a and u still work out of a field),
    # and the file keys (n, d, x) act on the list.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", priority=True),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+f", "apply_suggestion", "Apply fix"),
        Binding("a", "apply_suggestion", "Apply fix", show=False),
        Binding("ctrl+z", "revert", "Revert"),
        Binding("u", "revert", "Revert", show=False),
        Binding("escape", "close", "Back"),
        Binding("n", "new", "New"),
        Binding("d", "duplicate", "Duplicate", show=False),
        Binding("x", "delete", "Delete"),
        Binding("delete", "delete", "Delete", show=False),
        Binding("p", "focus_plan", "Plan for"),
        SETTINGS_KEY,
        *_leave_bindings(),
    ]

    AUTO_FOCUS = "#profile-list"
    """Keys go to the list from the place's first frame (Textual's default focuses the first
    focusable widget, the plan picker, and a later `focus()` left a window between)."""

    def __init__(self) -> None:
        super().__init__()
        self.planned: Card = detected_card(None)
        """The card verdicts are computed for (a profile's own gpu_memory_gib wins)."""
        self._detected: Card = self.planned
        self._detected_gpu: GpuTraits | None = None
        """What the detected card can do (bf16, FlashAttention 2), judged while editing."""
        self.assessment: Assessment | None = None
        """The open profile's latest assessment."""
        self._was_dirty = False
        self._form_in = asyncio.Event()
        self._form_scheduled = False
        self._showing = asyncio.Event()
        """Set while this place is the one shown (the form mounts faster then)."""

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="profiles-plan"):
            yield Label("Plan for", id="plan-label")
            yield Select(
                _PLAN_OPTIONS, value="detected", allow_blank=False, compact=True, id="plan-card"
            )
            yield Input(placeholder="GiB, e.g. 11", compact=True, id="plan-custom")
            yield Static(id="plan-note")
        with Horizontal(id="profiles-body"):
            with Vertical(id="profiles-side"):
                yield ProfileList(id="profile-list")
                yield Static(id="profile-info")
            with Vertical(id="profile-editor"):  # the form joins after the first paint
                yield Static(id="editor-head")
            yield EstimatePane(id="estimate-pane")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#profile-list").border_title = "Profiles"
        # planned for the card already detected: the watch below then has no new card to
        # plan for, and the list is read and judged once, not twice, on the first visit
        self._detected = self.planned = detected_card(self.cockpit.snapshot)
        self.watch(self.cockpit, "snapshot", self._snapshot_changed)
        self._show_plan_note()
        self.reload_list()
        self.watch_files()

    def on_screen_resume(self) -> None:
        self._showing.set()
        # The form joins after the place's first paint. Scheduled from on_mount, it ran
        # before that paint (the place was not yet the current screen, which alone Textual
        # paints); after one refresh, it still held back the paint that laid out the plan
        # row and the list. Each hold was the form's whole mount: 0.5 s on this machine.
        if not self._form_scheduled:
            self._form_scheduled = True
            self.call_after_refresh(self.call_after_refresh, self._start_form_mount)

    def on_screen_suspend(self) -> None:
        self._showing.clear()

    def _start_form_mount(self) -> None:
        self.run_worker(self._mount_form, name="profile-form")

    async def _mount_form(self) -> None:
        """The form (hundreds of widgets, hidden until a profile opens) is mounted after
        the place's first paint, a table at a time, so the list and its estimate show and
        take keys without waiting for it."""
        form = ProfileForm(id="profile-form")
        await self.query_one("#profile-editor").mount(form)
        await form.mount_fields(self._between_steps)
        self._form_in.set()

    async def _between_steps(self) -> None:
        """Let paints and keys through; while another place shows, go on slowly. (The form
        once waited for this place: each quick revisit then mounted a table or two before
        its first frame, 0.4 s a revisit against 0.15 s once the form is in.)"""
        await asyncio.sleep(0 if self._showing.is_set() else FORM_STEP_GAP_S)

    def _show_open(self, current: OpenProfile, raw: dict[str, Any]) -> None:
        if self._form_in.is_set():
            super()._show_open(current, raw)
        else:  # opened as the place appeared: once the form is in
            self.run_worker(self._open_when_form_in(current, raw), name="profile-open")

    async def _open_when_form_in(self, current: OpenProfile, raw: dict[str, Any]) -> None:
        await self._form_in.wait()
        super()._show_open(current, raw)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= ROOMY_WIDTH, "-roomy")

    # -- the planned card ---------------------------------------------------------------

    def _snapshot_changed(self, snapshot: MachineSnapshot | None) -> None:
        gpu = largest_gpu(snapshot)
        traits = None if gpu is None else gpu_traits((gpu,))[0]
        if traits != self._detected_gpu:
            self._detected_gpu = traits
            if self.is_open:
                self.revalidate()
        card = detected_card(snapshot)
        if card == self._detected:
            return
        self._detected = card
        if self.query_one("#plan-card", Select).value == "detected":
            self._plan_for(card)

    @on(Select.Changed, "#plan-card")
    def _plan_chosen(self, event: Select.Changed) -> None:
        custom = self.query_one("#plan-custom", Input)
        custom.display = event.value == "custom"
        if event.value == "custom":
            custom.focus()
            self._custom_typed(custom.value)
            return
        if event.value == "detected":
            self._plan_for(self._detected)
        elif isinstance(event.value, str):
            self._plan_for(preset_card(float(event.value)))
        self._show_plan_note()  # a typed size's error goes with the typed size

    @on(Input.Changed, "#plan-custom")
    def _custom_changed(self, event: Input.Changed) -> None:
        self._custom_typed(event.value)

    @on(Input.Submitted, "#plan-custom")
    def _custom_submitted(self, event: Input.Submitted) -> None:
        if isinstance(typed_gib(event.value), float):  # back to what the size is for
            form = self.query_one(ProfileForm)
            (form if self.is_open else self.query_one(ProfileList)).focus()

    def _custom_typed(self, text: str) -> None:
        gib = typed_gib(text)
        self.query_one("#plan-custom", Input).set_class(isinstance(gib, str), "-invalid")
        if isinstance(gib, float):
            self._plan_for(preset_card(gib))
        self._show_plan_note(gib if isinstance(gib, str) else None)

    def _plan_for(self, card: Card) -> None:
        if card == self.planned:
            return
        self.planned = card
        self._show_plan_note()
        self.reload_list()
        if self.is_open:
            self.revalidate()

    def _show_plan_note(self, problem: str | None = None) -> None:
        """The planned card, or why the typed size is not one."""
        if problem:
            note = Content.styled(problem, "bold $error")
        else:
            note = Content.assemble(
                (self.planned.label, "bold"),
                ("   a profile's own [hardware] gpu_memory_gib wins", "$text-muted"),
            )
        self.query_one("#plan-note", Static).update(note)

    def action_focus_plan(self) -> None:
        """Move to the "plan for" card picker (detected, a size, or one typed in GiB)."""
        # now, not after the keys already typed (`focus()` waits its turn behind them):
        # "p" then enter opens the picker, never the highlighted profile
        self.set_focus(self.query_one("#plan-card", Select))

    # -- the list -------------------------------------------------------------------------

    def reload_list(self, keep: str | None = None) -> None:
        """Read every profile file again and judge it on the planned card."""
        items = []
        self.listed_state = files_state()
        for entry in list_profiles():
            loaded = load_profile_file(entry.path)
            items.append(ListedProfile(entry, loaded, assess_file(loaded, self.planned)))
        self.query_one(ProfileList).show(items, keep)
        self._show_highlighted()

    @on(OptionList.OptionHighlighted, "#profile-list")
    def _highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_highlighted()

    @on(OptionList.OptionSelected, "#profile-list")
    def _selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_open()

    def _show_highlighted(self) -> None:
        """The highlighted file's description or error under the list (and its estimate)."""
        item = self.query_one(ProfileList).selected
        info = self.query_one("#profile-info", Static)
        if item is None:
            info.update(Content.styled("No profiles found.", "$text-muted"))
            return
        loaded = item.loaded
        lines = [Content.styled(display_path(loaded.path), "$text-muted")]
        if loaded.raw is not None and isinstance(loaded.raw.get("description"), str):
            lines.insert(0, Content(loaded.raw["description"]))
        assessment = item.assessment
        if assessment.message:
            lines.append(Content.styled(assessment.message, verdict_style(assessment.verdict)))
        info.update(Content("\n").join(lines))
        if not self.is_open:
            profile = loaded.profile
            preview = assess(profile, loaded.problems, self.planned) if profile else None
            self.query_one(EstimatePane).show(preview or item.assessment)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides a key from the footer; the app's own binding of that key (q, `,`)
        # then takes it.
        listing = self.query_one(ProfileList)
        if action == "open":
            return listing.has_focus and listing.selected is not None
        if action in ("save", "apply_suggestion", "revert", "close"):
            return self.is_open
        if action in ("new", "duplicate", "delete"):
            return not self.typing and (not self.is_open or listing.has_focus)
        if action == "focus_plan":
            return not self.typing
        if action == "settings":
            return not self.is_open and super().check_action(action, parameters)
        if action == "leave_place":
            return self.dirty
        if action == "quit_checked":
            return self.dirty and not self.typing
        return True

    # -- the open profile -------------------------------------------------------------

    @on(ProfileForm.Edited)
    def _form_edited(self, _event: ProfileForm.Edited) -> None:
        self.revalidate()

    def revalidate(self) -> None:
        """Validate the form's profile, flag its fields and estimate it on its card."""
        form = self.query_one(ProfileForm)
        profile, problems = parse_profile(form.raw)
        planning_detected = self.query_one("#plan-card", Select).value == "detected"
        if profile is not None and planning_detected:  # a preset size says nothing of sm_XY
            problems += gpu_problems(profile.model, self._detected_gpu)
        if profile is not None:  # pre-flight's model finding, from local facts only
            problems += model_problems(profile.model.name_or_path)
        form.show_problems(problems)
        self.assessment = assess(profile, problems, self.planned)
        self.query_one(EstimatePane).show(self.assessment)
        form.show_notes(field_notes(profile, self.assessment.estimate))
        dirty = self.dirty
        if dirty != self._was_dirty:  # the place keys and q ask first only while dirty
            self._was_dirty = dirty
            self.refresh_bindings()
        self.show_editor_head()

    def action_apply_suggestion(self) -> None:
        """Apply the highlighted suggestion's edits to the form."""
        suggestion = self.query_one(EstimatePane).selected_suggestion
        if suggestion is None:
            self.notify("No suggestion to apply: the profile fits as it is", severity="warning")
            return
        self.query_one(ProfileForm).apply_edits(suggestion.edits)
        self.notify(f"Applied: {suggestion.change}")
