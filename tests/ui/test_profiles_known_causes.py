"""The Profiles place flags preventable causes live, with the fix: FlashAttention 2 on the
detected pre-Ampere card (the simulated Tesla T4), and a quantized profile whose LoRA is
switched off. Pre-flight refuses both with the same catalog ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select

from cockpit.profiles.store import CONFIG_DIR_ENV
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import settle
from tests.ui.test_profiles import QLORA_3B, open_profile, row


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    return tmp_path


def _problem(app, dotted: str) -> str:
    return " ".join(str(row(app, dotted).query_one(".field-problem").render()).split())


async def _choose(pilot, selector: str, value: str) -> None:
    pilot.app.screen.query_one(selector, Select).value = value
    await settle(pilot)


async def test_flash_attention_2_on_the_detected_t4_is_flagged_with_its_fix():
    app = make_app(gpu="t4-16gb", start_place="profiles")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        assert _problem(app, "model.attn_implementation") == ""
        await _choose(pilot, "#field-model-attn_implementation", "flash_attention_2")
        shown = _problem(app, "model.attn_implementation")
        assert "Tesla T4 is sm_75" in shown and "FlashAttention 2 runs only on 8.0" in shown
        assert 'set model.attn_implementation = "sdpa"' in shown
        await _choose(pilot, "#plan-card", "16")  # a size alone says nothing of the card's sm
        assert _problem(app, "model.attn_implementation") == ""


async def test_switching_lora_off_on_a_quantized_profile_says_to_keep_it():
    app = make_app(gpu="t4-16gb", start_place="profiles")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        app.screen.query_one("#lora-enabled").focus()
        await pilot.press("enter")
        await settle(pilot)
        shown = _problem(app, "model.quantization")
        assert "a quantized model trains only through LoRA adapters" in shown
        assert "add a [lora] table" in shown
