"""The Profiles place: the list with verdicts, the form, the live estimate and suggestions.

The app runs on the simulated RTX 3050 (4 GiB) with an empty user profiles folder in a
temporary COCKPIT_CONFIG_DIR, so only the shipped profiles are listed unless a test
writes its own. Expected verdicts come from the estimator itself, so these tests check
the place, not the estimator's calibration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from cockpit.profiles.store import CONFIG_DIR_ENV, load_profile_file, shipped_profiles_dir
from cockpit.tui.app import CockpitApp
from cockpit.tui.widgets.estimate_pane import EstimatePane
from cockpit.tui.widgets.field_row import FieldRow
from cockpit.tui.widgets.profile_form import ProfileForm
from cockpit.tui.widgets.profile_list import ProfileList
from cockpit.vram.estimate import estimate
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, settle

QLORA_3B = "rtx3050-4gb-llama-3.2-3b-qlora"


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user profiles folder (the app's COCKPIT_CONFIG_DIR)."""
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    profiles = tmp_path / "config" / "profiles"
    profiles.mkdir(parents=True)
    return profiles


def profiles_app() -> CockpitApp:
    return make_app(start_place="profiles")


async def open_profile(pilot: Pilot, name: str) -> None:
    """Highlight ``name`` in the list and press enter."""
    listing = pilot.app.screen.query_one(ProfileList)
    listing.focus()
    listing.highlighted = [item.name for item in listing.items].index(name)
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


async def type_into(pilot: Pilot, dotted: str, text: str) -> Input:
    """Focus a field and replace its text with ``text`` in one change (like a paste).

    One change instead of a key per character keeps the suite fast; typing itself is
    tested by `test_typed_digits_and_q_go_into_the_field_not_to_the_place_keys`.
    """
    table, _, key = dotted.rpartition(".")
    field = pilot.app.screen.query_one(f"#field-{table or 'top'}-{key}", Input)
    field.focus()
    field.value = text
    await settle(pilot)
    return field


def headline(app: CockpitApp) -> str:
    """The estimate's first line, e.g. "TIGHT 3.69 of 4.00 GiB usable (92%)"."""
    pane = app.screen.query_one(EstimatePane)
    text = str(pane.query_one("#estimate-verdict").render())
    return text.replace("▐", "").replace("▌", " ").strip()


def pane_text(app: CockpitApp) -> str:
    """The estimate pane's text, unwrapped (narrow panes wrap long messages)."""
    pane = app.screen.query_one(EstimatePane)
    return "\n".join(str(static.render()) for static in pane.query(Static) if static.display)


def row(app: CockpitApp, dotted: str) -> FieldRow:
    table, _, key = dotted.rpartition(".")
    return app.screen.query_one(f"#row-field-{table or 'top'}-{key}", FieldRow)


def shipped_verdict(name: str, gib: float) -> str:
    profile = load_profile_file(shipped_profiles_dir() / f"{name}.toml").profile
    assert profile is not None
    return estimate(profile, gib, suggest=False).verdict


async def test_list_shows_every_profile_with_its_verdict_and_a_broken_file_its_error(user_dir):
    (user_dir / "broken.toml").write_text('name = "broken\n[model]\n', encoding="utf-8")
    app = profiles_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(ProfileList)
        names = [item.name for item in listing.items]
        assert names[0] == "tiny-demo-cpu"
        assert {QLORA_3B, "broken"} <= set(names)
        lines = screen_text(app).splitlines()
        name_line = next(i for i, line in enumerate(lines) if QLORA_3B in line)
        assert shipped_verdict(QLORA_3B, 4.0) in lines[name_line + 1]
        assert "shipped" in lines[name_line + 1]
        await open_profile(pilot, "broken")  # listed, explained, and not opened
        text = screen_text(app)
        assert "unreadable" in text
        assert "not valid TOML" in text
        assert not app.screen.is_open


async def test_batch_size_moves_the_estimate_and_applying_a_suggestion_makes_it_fit(user_dir):
    app = profiles_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        before = headline(app)
        assert not before.startswith("WON'T FIT")
        await type_into(pilot, "train.batch_size", "16")
        after = headline(app)
        assert after.startswith("WON'T FIT")
        total = app.screen.assessment.estimate.total_gib
        assert f"{total:.2f} of 4.00 GiB usable" in after
        assert after.split()[2] != before.split()[1]  # the total moved
        assert "● unsaved changes" in screen_text(app)

        suggestion = app.screen.query_one(EstimatePane).selected_suggestion
        assert suggestion is not None and suggestion.verdict in ("fits", "tight")
        assert suggestion.change in screen_text(app)
        app.screen.query_one("#field-top-engine", Select).focus()  # letters are keys here
        await pilot.press("a")
        await settle(pilot)
        for dotted, value in suggestion.edits.items():
            table, _, key = dotted.rpartition(".")
            editor = app.screen.query_one(f"#field-{table}-{key}")
            assert str(getattr(editor, "value", "")) == str(value)
        assert headline(app).split()[0] in ("FITS", "TIGHT")
        assert app.screen.assessment.estimate.fits


async def test_invalid_values_are_flagged_inline_and_kept_an_unknown_model_explained(user_dir):
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        field = await type_into(pilot, "train.batch_size", "abc")
        assert row(app, "train.batch_size").has_class("-invalid")
        assert "must be an integer ≥ 1" in screen_text(app)
        assert field.value == "abc"
        assert app.screen.query_one(ProfileForm).raw["train"]["batch_size"] == "abc"
        assert headline(app) == "INVALID"
        await type_into(pilot, "train.batch_size", "-1")
        assert row(app, "train.batch_size").has_class("-invalid")
        assert app.screen.query_one(ProfileForm).raw["train"]["batch_size"] == -1
        await type_into(pilot, "train.batch_size", "2")
        assert not row(app, "train.batch_size").has_class("-invalid")
        assert headline(app) != "INVALID"
        await type_into(pilot, "model.name_or_path", "acme/NoSuchModel-7B")
        assert headline(app) == "UNKNOWN MODEL"
        assert "not in cockpit's model catalog" in pane_text(app)


async def test_typed_digits_and_q_go_into_the_field_not_to_the_place_keys(user_dir):
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        await type_into(pilot, "description", "")
        await pilot.press(*"q1 a5 x d n u")
        await settle(pilot)
        assert app.current_mode == "profiles"
        assert app.return_code is None
        assert app.screen.query_one(ProfileForm).raw["description"] == "q1 a5 x d n u"


async def test_switching_the_planned_card_updates_the_verdicts(user_dir):
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p", "enter")
        await pilot.pause()
        options = [value for _, value in app.screen.query_one("#plan-card", Select)._options]
        await pilot.press(*["down"] * options.index("80"), "enter")
        await settle(pilot)
        assert "a 80 GiB card" in screen_text(app)
        listing = app.screen.query_one(ProfileList)
        verdicts = {item.name: item.assessment.verdict for item in listing.items}
        assert verdicts[QLORA_3B] == shipped_verdict(QLORA_3B, 80.0) == "fits"


async def test_a_profiles_own_card_size_wins_over_the_planned_card(user_dir):
    text = (shipped_profiles_dir() / f"{QLORA_3B}.toml").read_text(encoding="utf-8")
    own = text.replace("gpu_memory_gib = 0", "gpu_memory_gib = 2")
    (user_dir / "on-a-2gb-card.toml").write_text(own, encoding="utf-8")
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        listing = app.screen.query_one(ProfileList)
        verdicts = {item.name: item.assessment.verdict for item in listing.items}
        assert verdicts["on-a-2gb-card"] == "won't fit"
        await open_profile(pilot, "on-a-2gb-card")
        assert "of 2.00 GiB usable" in headline(app)
        assert "from this profile's [hardware] gpu_memory_gib" in pane_text(app)


async def test_switching_lora_off_is_a_full_fine_tune_and_back_on_restores_it(user_dir):
    app = profiles_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await open_profile(pilot, "lora-r8-smoke-test")
        form = app.screen.query_one(ProfileForm)
        lora = dict(form.raw["lora"])
        trainable = app.screen.assessment.estimate.trainable_params
        app.screen.query_one("#lora-enabled").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "lora" not in form.raw
        assert "full fine-tune" in screen_text(app)
        assert app.screen.assessment.estimate.trainable_params > trainable
        await pilot.press("enter")
        await settle(pilot)
        assert form.raw["lora"] == lora
        assert not app.screen.dirty


def footer_text(app: CockpitApp) -> str:
    return screen_text(app).splitlines()[-1]


async def test_the_apply_hint_names_a_key_that_works_in_the_field_enter_lands_in(user_dir):
    # Seen: enter put the cursor in `name` with its text selected, the pane said "a applies
    # the highlighted one", and pressing a replaced the name with "a".
    app = profiles_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        name = app.screen.query_one("#field-top-name", Input)
        assert app.screen.focused is name
        hint = str(app.screen.query_one("#estimate-suggestions-title", Static).render())
        key = hint.split("·")[1].split(" applies")[0].strip()
        suggestion = app.screen.query_one(EstimatePane).selected_suggestion
        assert suggestion is not None
        await pilot.press(key)
        await settle(pilot)
        assert name.value == QLORA_3B
        form = app.screen.query_one(ProfileForm)
        for dotted, value in suggestion.edits.items():
            table, _, field = dotted.rpartition(".")
            assert form.raw[table][field] == value
        await pilot.press("a")  # by habit: one letter more, not a name replaced
        assert name.value == QLORA_3B + "a"


async def test_the_footer_offers_only_keys_that_work_where_the_focus_is(user_dir):
    app = profiles_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = footer_text(app)
        for shown in ("⏎ Open", "n New", "x Delete", "p Plan for", ", Settings", "? Help",
                      "q Quit", "^p Commands"):  # fmt: skip
            assert shown in footer, footer
        await open_profile(pilot, QLORA_3B)  # the cursor is in a text field: letters type
        footer = footer_text(app)
        for shown in ("^s Save", "^f Apply fix", "^z Revert", "esc Back", "^p Commands"):
            assert shown in footer, footer
        for hidden in ("q Quit", "? Help", "p Plan", "n New", ", Settings"):
            assert hidden not in footer, footer
        await pilot.press("escape")  # out of the field: letters are keys again
        await settle(pilot)
        footer = footer_text(app)
        for shown in ("^f Apply fix", "p Plan for", "? Help", "q Quit", "^p Commands"):
            assert shown in footer, footer


async def test_plan_for_takes_a_typed_size_and_says_what_is_wrong_with_a_bad_one(user_dir):
    # Seen at 80x24: the "plan for" menu showed fixed sizes only (its last entry, the typed
    # size, was scrolled out of sight) though the README promises a typed size.
    app = profiles_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p", "enter")
        await settle(pilot)
        assert "type a size" in screen_text(app)
        await pilot.press("down", "enter")
        await settle(pilot)
        field = app.screen.query_one("#plan-custom", Input)
        assert app.screen.focused is field
        await pilot.press(*"1x")
        await settle(pilot)
        assert "'1x' is not a number" in screen_text(app)
        assert field.has_class("-invalid")
        await pilot.press("backspace", "1", "enter")
        await settle(pilot)
        assert "a 11 GiB card" in screen_text(app)
        assert not field.has_class("-invalid")
        assert app.screen.focused is app.screen.query_one(ProfileList)
        verdicts = {
            item.name: item.assessment.verdict for item in app.screen.query_one(ProfileList).items
        }
        assert verdicts[QLORA_3B] == shipped_verdict(QLORA_3B, 11.0)
