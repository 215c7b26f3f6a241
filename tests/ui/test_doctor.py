"""The Doctor place: checking state, ordered findings, fixes, copy, re-run and errors."""

from __future__ import annotations

import threading

from textual.widgets import Input, LoadingIndicator, Static

from cockpit.doctor.finding import Finding
from cockpit.tui.widgets.finding_table import FindingTable
from tests.ui.cockpit_snapshot_app import PYTHON, FakeDoctor, make_app
from tests.ui.conftest import screen_text, settle

UNSLOTH_FIX = 'pip install "trl<=1.15.0" "unsloth[cu124]"'


async def test_findings_are_listed_failures_first_with_a_summary(doctor):
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(FindingTable)
        assert [f.status for f in table.findings] == [
            "fail", "fail", "warn", "warn", "ok", "ok", "ok", "skip",
        ]  # fmt: skip
        text = screen_text(app)
        assert "2 fail · 2 warn · 3 ok · 1 skip" in text
        assert f"Target interpreter: {PYTHON}" in text
        assert doctor.calls == [PYTHON]
        # The first failure is selected and its fix shown.
        assert "https://download.pytorch.org/whl/cu121" in text


async def test_selecting_a_row_shows_its_fix_verbatim(doctor):
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await pilot.pause()
        assert UNSLOTH_FIX in screen_text(app)  # brackets are not eaten as markup


async def test_c_copies_the_selected_fix(doctor, monkeypatch):
    app = make_app(start_place="doctor", doctor=doctor)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("down", "c")
        await pilot.pause()
        assert copied == [UNSLOTH_FIX]
        assert "Fix copied" in screen_text(app)


async def test_c_on_a_check_without_fix_copies_nothing(monkeypatch):
    doctor = FakeDoctor([Finding("python", "Python interpreter", "ok", "3.11")])
    app = make_app(start_place="doctor", doctor=doctor)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert copied == []
        assert "no fix to copy" in screen_text(app)


async def test_r_runs_the_checks_again(doctor):
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert len(doctor.calls) == 2
        assert "2 fail · 2 warn · 3 ok · 1 skip" in screen_text(app)


async def test_a_raising_doctor_shows_an_error_and_the_app_keeps_running():
    doctor = FakeDoctor(error=RuntimeError("probe interpreter vanished"))
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "The doctor could not finish" in text
        assert "RuntimeError: probe interpreter vanished" in text
        await pilot.press("1")
        await settle(pilot)
        assert app.current_mode == "hardware"
        assert app.is_running


class _SlowDoctor(FakeDoctor):
    """Blocks until the test lets it finish."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def __call__(self, python: str | None) -> list[Finding]:
        assert self.release.wait(timeout=10), "test never released the doctor"
        return super().__call__(python)


async def test_checking_state_is_visible_and_the_app_stays_responsive():
    doctor = _SlowDoctor()
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "checking…" in screen_text(app)
        assert app.screen.query_one(LoadingIndicator).display
        await pilot.press("r")  # ignored: a second probe run would race the first
        await pilot.press("1")
        await pilot.pause()
        assert app.current_mode == "hardware"
        doctor.release.set()
        await pilot.press("2")
        await settle(pilot)
        assert "2 fail · 2 warn" in screen_text(app)
        assert not app.screen.query_one(LoadingIndicator).display
        assert len(doctor.calls) == 1


async def test_i_checks_another_interpreter(doctor):
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Input).value = ""
        other = "/opt/conda3/envs/qlora2/bin/python"  # digits and q go to the input
        await pilot.press(*other, "enter")
        await settle(pilot)
        assert doctor.calls == [PYTHON, other]
        assert app.current_mode == "doctor"
        assert f"Target interpreter: {other}" in screen_text(app)


async def test_escape_in_the_interpreter_prompt_changes_nothing(doctor):
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i", "x", "escape")
        await settle(pilot)
        assert doctor.calls == [PYTHON]
        assert f"Target interpreter: {PYTHON}" in screen_text(app)


async def test_python_and_ram_findings_read_as_sentences_and_say_why_that_model():
    """Seen on a machine without the GPU stack: "Python 3.11.7 (no GPU stack installed yet
    accept it)."; and "judged against unsloth/Llama-3.2-3B-Instruct-bnb-4bit" with no why."""
    from cockpit.doctor.checks.host import resources
    from cockpit.doctor.checks.python_env import python_version
    from cockpit.doctor.context import DoctorContext, ModelSize
    from cockpit.doctor.facts import Facts

    gib = 1024**3
    facts = Facts(executable=PYTHON, version="3.11.7", ram_total_bytes=64 * gib,
                  ram_available_bytes=40 * gib, hf_cache_free_bytes=500 * gib)  # fmt: skip
    models = (ModelSize("Qwen/Qwen2.5-0.5B-Instruct", 0.49e9),
              ModelSize("unsloth/Llama-3.2-3B-Instruct-bnb-4bit", 3.21e9))  # fmt: skip
    ctx = DoctorContext(facts, models=models)
    doctor = FakeDoctor([python_version(ctx), resources(ctx)])
    app = make_app(start_place="doctor", doctor=doctor)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = app.screen.query_one("#finding-text", Static)
        python_text = str(shown.content)
        await pilot.press("down")
        await pilot.pause()
        ram_text = str(shown.content)
    assert "accept it" not in python_text
    assert "Python 3.11.7: today's GPU stack supports it (3.10 to 3.13)" in python_text
    assert (
        "Judged against the largest model among the profiles, "
        "unsloth/Llama-3.2-3B-Instruct-bnb-4bit (3.2B params" in ram_text
    )
    alone = resources(DoctorContext(facts)).detail  # no profile: the default says so itself
    assert alone.startswith("Judged against a 3B model (default; no profile given)")
