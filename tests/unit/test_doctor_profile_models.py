"""The resources check judges RAM and disk against the models of the user's profiles."""

from __future__ import annotations

from cockpit.doctor.profile_models import profile_models
from cockpit.profiles.store import CONFIG_DIR_ENV


def _profile(path, name, model):
    path.write_text(f'name = "{name}"\n[model]\nname_or_path = "{model}"\n')


def test_user_profiles_models_are_sized_and_unknown_ones_left_out(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    (tmp_path / "profiles").mkdir()
    _profile(tmp_path / "profiles" / "big.toml", "big", "meta-llama/Llama-3.1-8B-Instruct")
    _profile(tmp_path / "profiles" / "odd.toml", "odd", "someone/unheard-of-model")
    (tmp_path / "profiles" / "broken.toml").write_text("name = [\n")
    models = {m.name: m for m in profile_models()}
    assert 7.9e9 < models["meta-llama/Llama-3.1-8B-Instruct"].params < 8.2e9
    assert "someone/unheard-of-model" not in models
    assert "unsloth/Llama-3.2-3B-Instruct-bnb-4bit" in models  # shipped profiles count too
