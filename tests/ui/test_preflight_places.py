"""Pre-flight's model findings in the Runs and Profiles places, and the Runs place's words for
"start anyway" (issue 13).

Seen: a misspelt model showed "✓ ready to start" in Runs; the shipped QLoRA profile opened in
Profiles on a machine without the hub said nothing of it; pressing s on a profile that won't
fit said "or --force to try", a flag of the CLI, where the key is f.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.profiles.store import CONFIG_DIR_ENV
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import settle, wait_for
from tests.ui.test_profiles import QLORA_3B, open_profile, row
from tests.ui.test_runs import (
    DEMO,
    Recorder,
    _highlight_profile,
    _user_profile,
    open_runs,
    runs_env,
)

__all__ = ["runs_env"]  # the fixture, used by name

MISSPELT = "Qwen/Qwen2.5-0.6B-Instrukt"


@pytest.fixture(autouse=True)
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return cache


def _verdict(app) -> str:
    return " ".join(app.screen.query_one("#launch-verdict").content.plain.split())


async def test_runs_refuses_a_misspelt_model_with_its_close_matches(runs_env):
    _user_profile("typo", DEMO.read_text().replace("cockpit:tiny-llama", MISSPELT))
    app = make_app(start_place="runs")
    async with app.run_test(size=(120, 40)) as pilot:
        seen = Recorder(app)
        await open_runs(pilot)
        await _highlight_profile(pilot, "typo")
        verdict = _verdict(app)
        assert "refused to start" in verdict and "ready to start" not in verdict
        assert f"unknown model '{MISSPELT}'" in verdict
        assert "close matches: Qwen/Qwen2.5-0.5B" in verdict
        await pilot.press("s")
        await wait_for(pilot, lambda: seen.titled("Refused to start"))
        assert not runs_env.exists() or not any(runs_env.iterdir())


async def test_runs_refusal_of_a_profile_that_wont_fit_names_the_key_f(runs_env):
    app = make_app(start_place="runs")  # the simulated 4 GiB card
    async with app.run_test(size=(120, 40)) as pilot:
        seen = Recorder(app)
        await open_runs(pilot)
        await _highlight_profile(pilot, "qwen2.5-coder-1.5b-qlora-sft")
        assert "won't fit" in _verdict(app) and "--force" not in _verdict(app)
        await pilot.press("s")
        await wait_for(pilot, lambda: seen.titled("Refused to start"))
        (_severity, _title, message) = seen.titled("Refused to start")[0]
        assert "or f to try" in message and "--force" not in message


async def test_profiles_flags_a_hub_model_that_cannot_be_loaded_offline(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    app = make_app(start_place="profiles")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await open_profile(pilot, QLORA_3B)
        shown = " ".join(
            str(row(app, "model.name_or_path").query_one(".field-problem").render()).split()
        )
        assert "not in the Hugging Face cache" in shown and "HF_HUB_OFFLINE=1 is set" in shown
        assert "hf download unsloth/Llama-3.2-3B-Instruct-bnb-4bit" in shown
