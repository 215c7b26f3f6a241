"""[grpo] use_vllm, vllm_mode, vllm_gpu_memory_utilization and max_prompt_length reach TRL's
GRPOConfig as the engine builds it (vLLM itself never runs here), and a missing vllm is
refused before any model loads, with the fix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cockpit.profiles.validate import parse_profile
from engines.grpo import VllmUnavailable, config_args, config_fields, require_vllm
from engines.job import Job
from engines.modeling import Runtime
from engines.profile_schema import GrpoSection, ModelSection, Profile, TrainSection

CPU = Runtime(cuda=False, local_rank=0, bf16_ok=False)


class _Said(list):
    def __call__(self, level: str, text: str) -> None:
        self.append((level, text))


def _job(tmp_path: Path, **grpo: object) -> tuple[Job, _Said]:
    said = _Said()
    settings = Profile(
        name="g",
        model=ModelSection(name_or_path="m"),
        engine="grpo",
        train=TrainSection(batch_size=4, max_steps=2),
        grpo=GrpoSection(**grpo),  # type: ignore[arg-type]
    )
    return Job(settings, tmp_path, CPU, "peft", "fp32", said), said


def _config(job: Job, known: set[str] | None = None):
    from trl import GRPOConfig

    return GRPOConfig(**config_args(job, has_eval=False, known=known))


def test_colocated_vllm_reaches_grpo_config_with_its_share_and_context(tmp_path):
    job, said = _job(
        tmp_path,
        use_vllm=True,
        vllm_mode="colocate",
        vllm_gpu_memory_utilization=0.45,
        max_prompt_length=300,
        max_completion_length=200,
    )
    config = _config(job)
    assert config.use_vllm is True and config.vllm_mode == "colocate"
    assert config.vllm_gpu_memory_utilization == 0.45
    assert config.vllm_max_model_length == 500  # prompt + completion, not the model's context
    assert not said


def test_server_mode_passes_no_colocate_share(tmp_path):
    job, _ = _job(tmp_path, use_vllm=True, vllm_mode="server", vllm_gpu_memory_utilization=0.8)
    config = _config(job)
    assert config.use_vllm is True and config.vllm_mode == "server"
    assert config.vllm_gpu_memory_utilization == 0.3  # TRL's default: the server has its own


def test_without_use_vllm_nothing_about_vllm_is_passed(tmp_path):
    job, _ = _job(tmp_path, vllm_mode="server", vllm_gpu_memory_utilization=0.8)
    args = config_args(job, has_eval=False)
    assert not any(key.startswith(("use_vllm", "vllm")) for key in args)
    assert _config(job).use_vllm is False


def test_max_prompt_length_goes_only_to_a_trl_that_has_it(tmp_path):
    """TRL 1.x dropped the key (the engine drops long prompts itself); older TRL has it."""
    job, _ = _job(tmp_path, max_prompt_length=333)
    assert "max_prompt_length" not in config_fields()  # the installed TRL 1.x
    assert "max_prompt_length" not in config_args(job, False)
    older = config_fields() | {"max_prompt_length"}
    assert config_args(job, False, older)["max_prompt_length"] == 333


def test_a_trl_without_vllm_mode_gets_the_rest_and_the_user_is_told(tmp_path):
    job, said = _job(tmp_path, use_vllm=True)
    older = config_fields() - {"vllm_mode", "vllm_max_model_length"}
    args = config_args(job, False, older)
    assert args["use_vllm"] is True and "vllm_mode" not in args
    assert said == [
        (
            "warning",
            "this TRL's GRPOConfig has no vllm_max_model_length, vllm_mode; its defaults apply",
        )
    ]


def test_missing_vllm_is_refused_before_the_model_loads_with_the_fix():
    grpo = GrpoSection(use_vllm=True)
    with pytest.raises(VllmUnavailable) as caught:
        require_vllm(grpo, config_fields(), has_module=lambda name: None)
    message = str(caught.value)
    assert "vllm is not installed in the training interpreter" in message
    assert "pip install vllm" in message and "use_vllm = false" in message
    require_vllm(replace(grpo, use_vllm=False), config_fields(), has_module=lambda name: None)
    require_vllm(grpo, config_fields(), has_module=lambda name: object())


def test_a_trl_without_use_vllm_is_refused_too():
    with pytest.raises(VllmUnavailable, match="no use_vllm; upgrade trl"):
        require_vllm(GrpoSection(use_vllm=True), {"beta"}, has_module=lambda name: object())


def _raw(**grpo: object) -> dict:
    return {
        "name": "g",
        "engine": "grpo",
        "model": {"name_or_path": "m"},
        "train": {"batch_size": 4},
        "grpo": grpo,
    }


def test_the_vllm_keys_are_validated_with_what_is_allowed():
    profile, problems = parse_profile(
        _raw(use_vllm=True, vllm_mode="colocated", vllm_gpu_memory_utilization=0.5)
    )
    assert profile is None
    assert [(p.key, p.suggestion) for p in problems] == [
        ("grpo.vllm_mode", 'did you mean "colocate"?')
    ]
    _, problems = parse_profile(_raw(use_vllm="yes", vllm_gpu_memory_utilization=1.2))
    shown = {p.key: p.message for p in problems}
    assert shown["grpo.use_vllm"] == "must be true or false"
    assert shown["grpo.vllm_gpu_memory_utilization"] == "must be a number > 0 and < 1"
    profile, problems = parse_profile(
        _raw(use_vllm=True, vllm_mode="server", vllm_gpu_memory_utilization=0.5)
    )
    assert profile is not None and not problems
    assert (profile.grpo.use_vllm, profile.grpo.vllm_mode) == (True, "server")


def test_preflight_warns_when_the_training_interpreter_has_no_vllm():
    from cockpit.runs.vllm_check import vllm_warning

    profile, _ = parse_profile(_raw(use_vllm=True))
    assert profile is not None
    warning = vllm_warning(profile, "/envs/train/bin/python", has_vllm=lambda python: False)
    assert warning is not None and warning.key == "grpo.use_vllm"
    assert warning.as_warning() == (
        "warning: grpo.use_vllm = true: /envs/train/bin/python has no vllm: the engine "
        "refuses to start the colocated vLLM generation (TRL needs vllm in the training "
        "process in both modes) — fix: install it there: /envs/train/bin/python -m pip "
        "install vllm (Linux with an NVIDIA GPU); or set use_vllm = false to generate with "
        "transformers"
    )
    assert vllm_warning(profile, "p", has_vllm=lambda python: True) is None
    assert vllm_warning(profile, "p", has_vllm=lambda python: None) is None  # unknowable
    without, _ = parse_profile(_raw())
    assert vllm_warning(without, "p", has_vllm=lambda python: False) is None


def test_cockpits_own_interpreter_is_asked_without_importing(monkeypatch):
    import sys

    from cockpit.runs import vllm_check

    monkeypatch.setattr(vllm_check, "find_spec", lambda name: None)
    assert vllm_check.interpreter_has_vllm(sys.executable) is False
