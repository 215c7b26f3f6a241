"""Pre-flight says whether the model can be loaded before anything is spawned (issue 13).

Seen: the shipped 4 GB QLoRA profile on a machine without the hub passed pre-flight ("✓ ready
to start"), then the engine retried the hub and crashed after 56 s; a misspelt id
(`Qwen/Qwen2.5-0.6B-Instrukt`) started the same way. The hub is never reached here: each
test injects the hub's answer, and the cache is a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli_w
import tomllib

from cockpit.runs import model_source
from cockpit.runs.model_source import HubAnswer, cache_state, check_model, hub_cache_dir
from cockpit.runs.preflight import EXIT_INVALID, preflight
from tests.runs_helpers import REPO, TINY

QLORA_3050 = REPO / "profiles" / "rtx3050-4gb-llama-3.2-3b-qlora.toml"
LLAMA = "unsloth/Llama-3.2-3B-Instruct-bnb-4bit"
MISSPELT = "Qwen/Qwen2.5-0.6B-Instrukt"
OFFLINE = HubAnswer(False, None, "the hub (https://huggingface.co) is unreachable: no network")


@pytest.fixture(autouse=True)
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty hub cache, no offline variables, and a hub that must not be asked."""
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(model_source, "_head", _no_network)
    return cache


def _no_network(*_args) -> HubAnswer:
    raise AssertionError("a test reached for the hub")


def _hub(answer: HubAnswer):
    asked: list[str] = []

    def probe(name: str) -> HubAnswer:
        asked.append(name)
        return answer

    probe.asked = asked  # type: ignore[attr-defined]
    return probe


def _cached(cache: Path, name: str, files: dict[str, str], *, main: bool = True) -> Path:
    """Lay `name` out in the cache as huggingface_hub does (refs/main → snapshot)."""
    repo = cache / f"models--{name.replace('/', '--')}"
    snapshot = repo / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    for file, text in files.items():
        (snapshot / file).write_text(text)
    if main:
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text("abc123")
    return snapshot


def _profile(tmp_path: Path, base: Path, name: str) -> Path:
    raw = tomllib.loads(base.read_text())
    raw["model"]["name_or_path"] = name
    raw["data"]["path"] = str((base.parent / raw["data"]["path"]).resolve())
    path = tmp_path / "profile.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


# -- model present ------------------------------------------------------------------------


def test_the_shipped_qlora_profile_offline_is_refused_with_the_download_command():
    probe = _hub(OFFLINE)
    check = preflight(QLORA_3050, gpu_sizes_gib=(), hub_probe=probe)
    assert not check.ok and check.exit_code == EXIT_INVALID
    (refusal,) = [r for r in check.refusals if r.key == "model.name_or_path"]
    assert "not in the Hugging Face cache" in refusal.message and "unreachable" in refusal.message
    assert f"`hf download {LLAMA}`" in refusal.fix
    assert f"`huggingface-cli download {LLAMA}`" in refusal.fix
    assert refusal.catalog_id == "hub_offline_no_cache" and probe.asked == [LLAMA]


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"])
def test_offline_mode_refuses_without_asking_the_hub(monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    probe = _hub(HubAnswer(True, True))
    check = preflight(QLORA_3050, gpu_sizes_gib=(), hub_probe=probe)
    (refusal,) = check.refusals
    assert f"{variable}=1 is set" in refusal.message and "hf download" in refusal.fix
    assert probe.asked == []


def test_a_model_in_the_cache_starts_without_asking_the_hub(hub_cache):
    _cached(hub_cache, LLAMA, {"config.json": "{}", "model.safetensors": "w"})
    probe = _hub(OFFLINE)
    check = preflight(QLORA_3050, gpu_sizes_gib=(), hub_probe=probe)
    assert check.ok and probe.asked == []


@pytest.mark.parametrize("home", ["HF_HOME", "HUGGINGFACE_HUB_CACHE"])
def test_the_cache_follows_hf_home_and_the_legacy_variable(tmp_path, monkeypatch, home):
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv(home, str(tmp_path / "elsewhere"))
    cache = tmp_path / "elsewhere" / ("hub" if home == "HF_HOME" else "")
    assert hub_cache_dir() == cache
    _cached(cache, LLAMA, {"config.json": "{}", "model.safetensors": "w"})
    assert check_model(LLAMA, _hub(OFFLINE)) == ([], [])


def test_a_download_that_stopped_early_is_not_present(hub_cache):
    index = {"weight_map": {"a": "model-00001.safetensors", "b": "model-00002.safetensors"}}
    _cached(
        hub_cache,
        LLAMA,
        {
            "config.json": "{}",
            "model.safetensors.index.json": json.dumps(index),
            "model-00001.safetensors": "w",
        },
        main=False,
    )
    assert cache_state(LLAMA, hub_cache).state == "partial"
    (refusal,), _ = check_model(LLAMA, _hub(OFFLINE))
    assert "only partly in the cache" in refusal.message
    assert refusal.catalog_id == "model_files_missing"


def test_a_reachable_hub_that_has_the_model_lets_it_start_with_a_note():
    check = preflight(QLORA_3050, gpu_sizes_gib=(), hub_probe=_hub(HubAnswer(True, True, "200")))
    assert check.ok and any("engine downloads it from the hub" in n for n in check.notes)


def test_with_the_probe_off_a_catalog_model_is_not_refused():
    """COCKPIT_HUB_PROBE=0 (the test suite) cannot tell: a known id is left to the engine."""
    assert preflight(QLORA_3050, gpu_sizes_gib=(), hub_probe=None).ok


def test_the_probe_switch_is_an_environment_variable(monkeypatch):
    monkeypatch.setenv(model_source.HUB_PROBE_ENV, "0")
    assert model_source.default_probe() is None
    monkeypatch.setenv(model_source.HUB_PROBE_ENV, "1")
    assert model_source.default_probe() is model_source.ask_hub


def test_the_tiny_demo_and_local_folders_never_touch_cache_or_hub(tmp_path, monkeypatch):
    monkeypatch.setattr(model_source, "cache_state", _no_network)
    probe = _hub(OFFLINE)
    assert preflight(TINY, gpu_sizes_gib=(), hub_probe=probe).ok
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert preflight(_profile(tmp_path, TINY, str(folder)), gpu_sizes_gib=(), hub_probe=probe).ok
    assert probe.asked == []


# -- model name known ---------------------------------------------------------------------


def test_a_misspelt_model_is_refused_with_close_matches(tmp_path):
    path = _profile(tmp_path, TINY, MISSPELT)
    check = preflight(path, gpu_sizes_gib=(), hub_probe=None)
    (refusal,) = check.refusals
    assert refusal.key == "model.name_or_path" and "unknown model" in refusal.message
    assert "close matches: Qwen/Qwen2.5-0.5B" in refusal.fix
    assert refusal.catalog_id == "hub_repo_not_found"


def test_a_misspelt_model_the_hub_does_not_have_is_refused_with_close_matches(tmp_path):
    path = _profile(tmp_path, TINY, MISSPELT)
    check = preflight(path, gpu_sizes_gib=(), hub_probe=_hub(HubAnswer(True, False, "HTTP 401")))
    (refusal,) = check.refusals
    assert "the hub has no public model" in refusal.message and "HTTP 401" in refusal.message
    assert "close matches: Qwen/Qwen2.5-0.5B" in refusal.fix


def test_an_unknown_model_in_the_cache_is_fine(tmp_path, hub_cache):
    _cached(hub_cache, "someone/own-model", {"config.json": "{}", "model.safetensors": "w"})
    path = _profile(tmp_path, TINY, "someone/own-model")
    assert preflight(path, gpu_sizes_gib=(), hub_probe=_hub(OFFLINE)).ok


def test_an_unknown_model_the_hub_has_starts(tmp_path):
    path = _profile(tmp_path, TINY, "someone/new-model")
    assert preflight(path, gpu_sizes_gib=(), hub_probe=_hub(HubAnswer(True, True))).ok


# -- the probe itself ---------------------------------------------------------------------


def test_the_probe_is_bounded_and_its_answer_kept(monkeypatch):
    calls: list[str] = []

    def head(endpoint: str, name: str, timeout: float) -> HubAnswer:
        calls.append(name)
        return HubAnswer(True, False, "HTTP 404")

    monkeypatch.setattr(model_source, "_head", head)
    monkeypatch.setattr(model_source, "_answers", {})
    first = model_source.ask_hub("org/x")
    assert first == model_source.ask_hub("org/x") == HubAnswer(True, False, "HTTP 404")
    assert calls == ["org/x"]


def test_a_hub_that_never_answers_counts_as_unreachable(monkeypatch):
    import threading

    release = threading.Event()

    def head(*_args) -> HubAnswer:
        release.wait(10)
        return HubAnswer(True, True)

    monkeypatch.setattr(model_source, "_head", head)
    monkeypatch.setattr(model_source, "_answers", {})
    try:
        answer = model_source.ask_hub("org/slow", timeout=0.05)
    finally:
        release.set()
    assert not answer.reachable and "no answer within 0.05 s" in answer.detail
