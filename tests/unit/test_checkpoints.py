"""Checkpoints by default: a crash is resumable with every shipped profile, and what that
costs on disk is shown before the run (issue 13).

Before: every shipped profile set save_steps = 0 (a SIGKILL or OOM left nothing to resume
from) and a profile that did save kept every checkpoint (a save_steps = 25 run kept 11).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from cockpit.cli.estimate import estimate_main
from cockpit.profiles.fields import FIELD_BY_KEY, field_notes
from cockpit.profiles.store import load_profile_file, shipped_profiles_dir
from cockpit.profiles.validate import parse_profile
from cockpit.vram.checkpoint import checkpoint_size, disk_size
from cockpit.vram.estimate import estimate
from engines.job import Job, common_args
from engines.modeling import Runtime
from engines.profile_schema import Profile, profile_from_dict

QLORA_3B = "rtx3050-4gb-llama-3.2-3b-qlora"
SHIPPED = sorted(p.stem for p in shipped_profiles_dir().glob("*.toml"))


def _shipped(name: str) -> Profile:
    profile = load_profile_file(shipped_profiles_dir() / f"{name}.toml").profile
    assert profile is not None
    return profile


def _args(profile: Profile, tmp_path: Path) -> dict:
    cpu = Runtime(cuda=False, local_rank=0, bf16_ok=False)
    job = Job(profile, tmp_path, cpu, "peft", "fp32", lambda level, text: None)
    return common_args(job, has_eval=False)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_profile_saves_checkpoints_and_keeps_the_newest_two(name, tmp_path):
    args = _args(_shipped(name), tmp_path)
    assert args["save_strategy"] == "steps" and args["save_steps"] > 0
    assert args["save_total_limit"] == 2


def test_a_profile_that_says_nothing_saves_every_50_steps_and_keeps_two(tmp_path):
    profile = profile_from_dict({"name": "mine", "model": {"name_or_path": "m"}})
    assert (profile.train.save_steps, profile.train.save_total_limit) == (50, 2)
    args = _args(profile, tmp_path)
    assert (args["save_strategy"], args["save_steps"], args["save_total_limit"]) == (
        "steps",
        50,
        2,
    )


def test_save_total_limit_0_keeps_every_checkpoint(tmp_path):
    profile = profile_from_dict(
        {"name": "mine", "model": {"name_or_path": "m"}, "train": {"save_total_limit": 0}}
    )
    assert "save_total_limit" not in _args(profile, tmp_path)  # transformers: no deletion


@pytest.mark.parametrize(
    ("value", "message"),
    [(-1, "must be an integer ≥ 0"), ("2", "write 2 without quotes"), (1.5, "integer")],
)
def test_a_bad_save_total_limit_is_flagged_with_the_fix(value, message):
    raw = {"name": "p", "model": {"name_or_path": "m"}, "train": {"save_total_limit": value}}
    profile, problems = parse_profile(raw)
    assert profile is None
    (problem,) = problems
    assert problem.key == "train.save_total_limit" and message in str(problem)


def test_the_form_has_the_field_and_says_what_0_means():
    spec = FIELD_BY_KEY["train.save_total_limit"]
    assert (spec.kind, spec.default) == ("int", 2)
    assert "0: keep every one" in spec.placeholder
    assert "0: no checkpoints" in FIELD_BY_KEY["train.save_steps"].placeholder


def test_the_save_steps_field_says_what_a_lora_checkpoint_costs_on_disk():
    profile = _shipped(QLORA_3B)
    result = estimate(profile, 4.0, suggest=False)
    terms = {t.name: t.bytes for t in result.terms}
    note = field_notes(profile, result)["train.save_steps"]
    each = terms["adapters"] + terms["optimizer"]
    assert note.startswith(f"checkpoints: every 50 steps, ≈ {disk_size(each)} each (adapter ")
    assert f"the newest 2 kept: ≈ {disk_size(2 * each)} on disk" in note


def test_a_full_fine_tune_checkpoint_is_the_whole_model_plus_the_optimizer():
    lora = _shipped(QLORA_3B)
    model = dataclasses.replace(lora.model, quantization="none", backend="peft")
    full = dataclasses.replace(lora, lora=None, model=model)
    size = checkpoint_size(estimate(full, 24.0, suggest=False))
    params = estimate(full, 24.0, suggest=False).model.spec.params
    assert size.full_model and size.weights_bytes == pytest.approx(2 * params, rel=0.01)
    assert size.total_bytes > 50 * checkpoint_size(estimate(lora, 4.0, suggest=False)).total_bytes
    assert "the whole model 6.0 GiB" in field_notes(full, estimate(full, 24.0))["train.save_steps"]


def test_save_steps_0_says_a_crash_loses_the_run():
    profile = _shipped(QLORA_3B)
    off = dataclasses.replace(profile, train=dataclasses.replace(profile.train, save_steps=0))
    note = field_notes(off, estimate(off, 4.0, suggest=False))["train.save_steps"]
    assert note.startswith("checkpoints: none, so a crash loses the whole run")
    assert field_notes(None, None) == {}


def test_cockpit_estimate_prints_what_the_checkpoints_cost():
    out = io.StringIO()
    path = str(shipped_profiles_dir() / f"{QLORA_3B}.toml")
    estimate_main(path, 4.0, trace=False, as_json=False, out=out)
    (line,) = [x for x in out.getvalue().splitlines() if x.startswith("checkpoints:")]
    assert "every 50 steps" in line and "the newest 2 kept" in line
