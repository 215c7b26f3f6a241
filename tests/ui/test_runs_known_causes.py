"""The Runs place's launch pane on a pre-Ampere card (the simulated Tesla T4): a profile
asking for FlashAttention 2 is refused before anything starts, naming the key, the value,
the fix and the known cause; bf16 there is a warning, because the engine trains in fp16."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from cockpit.profiles.store import CONFIG_DIR_ENV
from cockpit.runs.store import RUNS_DIR_ENV, runs_root
from cockpit.runs.supervisor import ENGINE_MODULE_ENV
from tests.ui.cockpit_snapshot_app import make_app
from tests.ui.conftest import screen_text, wait_for

DEMO = Path(__file__).resolve().parents[2] / "profiles" / "tiny-demo-cpu.toml"


@pytest.fixture
def runs_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch runs folder and config dir, the fake engine (nothing here should start)."""
    monkeypatch.setenv(RUNS_DIR_ENV, str(tmp_path / "runs"))
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(ENGINE_MODULE_ENV, "tests.fake_engine")
    yield tmp_path


def _user_profile(name: str, **model: str) -> None:
    text = DEMO.read_text().replace('name = "tiny-demo-cpu"', f'name = "{name}"')
    for key, value in model.items():
        text = text.replace(f'{key} = "auto"', f'{key} = "{value}"')
        text = text.replace(f'{key} = "fp32"', f'{key} = "{value}"')
    folder = Path(os.environ[CONFIG_DIR_ENV]) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(text)


async def _check_of(pilot, name: str) -> str:
    await wait_for(pilot, lambda: "ready to start" in screen_text(pilot.app))
    await pilot.press("n")
    options = pilot.app.screen.query_one("#launch-profiles")
    while options.highlighted_option.id != name:
        await pilot.press("down")
    await wait_for(pilot, lambda: pilot.app.screen.check and pilot.app.screen.check.name == name)
    return pilot.app.screen.query_one("#launch-verdict", Static).content.plain


async def test_flash_attention_2_on_a_t4_is_refused_with_key_value_fix_and_cause(runs_env):
    _user_profile("fa2", attn_implementation="flash_attention_2")
    app = make_app(gpu="t4-16gb", start_place="runs")
    async with app.run_test(size=(130, 44)) as pilot:
        verdict = " ".join((await _check_of(pilot, "fa2")).split())
        assert "refused to start" in verdict
        assert 'model.attn_implementation = "flash_attention_2": Tesla T4 is sm_75' in verdict
        assert 'fix: set model.attn_implementation = "sdpa"' in verdict
        assert "known cause: flash_attn_unsupported_gpu" in verdict
        assert "s start" not in app.screen.query_one("#launch-keys", Static).content.plain
        await pilot.press("s")
        await pilot.pause()
        assert not runs_root().exists() or not any(runs_root().iterdir())


async def test_bf16_on_a_t4_starts_with_a_warning_and_its_fix(runs_env):
    _user_profile("bf16", dtype="bf16")
    app = make_app(gpu="t4-16gb", start_place="runs")
    async with app.run_test(size=(130, 44)) as pilot:
        verdict = " ".join((await _check_of(pilot, "bf16")).split())
        assert "ready to start" in verdict
        assert 'warning: model.dtype = "bf16": Tesla T4 is sm_75' in verdict
        assert 'set model.dtype = "fp16"' in verdict and "[bf16_unsupported]" in verdict
