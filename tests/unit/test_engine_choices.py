"""What the engine decides for this machine, and that it says so: precision, quantization,
optimizer, backend and the TrainingArguments every TRL config accepts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engines.job import Job, common_args, optimizer_name
from engines.modeling import ModelLoadError, Runtime, choose_precision, quantization_bits
from engines.profile_schema import GrpoSection, ModelSection, Profile, TrainSection
from engines.unsloth_backend import choose_backend

CPU = Runtime(cuda=False, local_rank=0, bf16_ok=False)
AMPERE = Runtime(cuda=True, local_rank=1, bf16_ok=True)
TURING = Runtime(cuda=True, local_rank=0, bf16_ok=False)


class _Said(list):
    def __call__(self, level: str, text: str) -> None:
        self.append((level, text))

    def text(self) -> str:
        return "\n".join(t for _, t in self)


@pytest.mark.parametrize(
    ("dtype", "runtime", "expected", "warned"),
    [
        ("auto", CPU, "fp32", False),
        ("bf16", CPU, "fp32", True),
        ("auto", AMPERE, "bf16", False),
        ("auto", TURING, "fp16", False),
        ("bf16", TURING, "fp16", True),
        ("fp32", AMPERE, "fp32", False),
        ("fp16", AMPERE, "fp16", False),
    ],
)
def test_precision_is_the_best_this_device_supports(dtype, runtime, expected, warned):
    said = _Said()
    assert choose_precision(dtype, runtime, said) == expected
    assert bool(said) == warned


def _settings(**model: object) -> Profile:
    return Profile(name="", model=ModelSection(name_or_path="m", **model), grpo=GrpoSection())  # type: ignore[arg-type]


def test_four_bit_without_cuda_trains_in_full_precision_and_says_so():
    said = _Said()
    assert quantization_bits(_settings(quantization="4bit"), CPU, said) is None
    assert said == [
        ("warning", "4-bit needs a CUDA GPU (bitsandbytes); training in 32-bit on CPU instead")
    ]
    assert quantization_bits(_settings(quantization="4bit"), AMPERE, said) == 4
    assert quantization_bits(_settings(quantization="8bit"), AMPERE, said) == 8
    assert quantization_bits(_settings(quantization="none"), AMPERE, said) is None


def test_quantization_needs_an_adapter():
    settings = replace(_settings(quantization="4bit"), lora=None)
    with pytest.raises(ModelLoadError, match=r"needs a \[lora\] table"):
        quantization_bits(settings, AMPERE, _Said())


@pytest.mark.parametrize(
    ("name", "runtime", "expected"),
    [
        ("adamw", CPU, "adamw_torch"),
        ("adamw_8bit", AMPERE, "adamw_bnb_8bit"),
        ("adamw_8bit", CPU, "adamw_torch"),
        ("paged_adamw_8bit", AMPERE, "paged_adamw_8bit"),
        ("paged_adamw", AMPERE, "paged_adamw_32bit"),
        ("paged_adamw", CPU, "adamw_torch"),
        ("adafactor", CPU, "adafactor"),
        ("sgd", CPU, "sgd"),
    ],
)
def test_optimizers_map_to_transformers_names(name, runtime, expected):
    said = _Said()
    assert optimizer_name(name, runtime, said) == expected
    assert bool(said) == (expected != optimizer_name(name, AMPERE, _Said()))


def test_backend_choice_is_said():
    said = _Said()
    assert choose_backend(_settings(backend="peft"), AMPERE, said) == "peft"
    assert choose_backend(replace(_settings(), lora=None), AMPERE, said) == "full"
    assert choose_backend(_settings(backend="auto"), CPU, said) == "peft"
    assert "Unsloth needs a CUDA GPU" in said[-1][1] and said[-1][0] == "info"
    assert choose_backend(_settings(backend="unsloth"), CPU, said) == "peft"
    assert said[-1][0] == "warning"


def test_backend_auto_with_a_gpu_but_no_unsloth_uses_peft(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_unsloth(name, *args, **kwargs):
        if name == "unsloth":
            raise ImportError("No module named 'unsloth'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_unsloth)
    said = _Said()
    assert choose_backend(_settings(backend="auto"), AMPERE, said) == "peft"
    assert "Unsloth does not import" in said.text()


def _job(tmp_path: Path, runtime: Runtime = CPU, **train: object) -> tuple[Job, _Said]:
    said = _Said()
    settings = replace(_settings(), train=TrainSection(**train))  # type: ignore[arg-type]
    return Job(settings, tmp_path, runtime, "peft", "fp32", said), said


def test_training_arguments_follow_the_profile(tmp_path):
    job, said = _job(tmp_path, max_steps=0, save_steps=0, gradient_checkpointing="unsloth")
    args = common_args(job, has_eval=False)
    assert args["output_dir"] == str(tmp_path / "checkpoints")
    assert args["max_steps"] == -1 and args["save_strategy"] == "no"
    assert args["logging_steps"] == 1 and args["report_to"] == "none"
    assert args["use_cpu"] and not args["bf16"] and not args["fp16"]
    assert args["gradient_checkpointing"] is True
    assert "needs Unsloth; using the standard one" in said.text()
    assert "eval_strategy" not in args


def test_save_steps_and_eval_split_turn_on_saving_and_evaluation(tmp_path):
    job, _ = _job(tmp_path, max_steps=40, save_steps=10, gradient_checkpointing="off")
    args = common_args(job, has_eval=True)
    assert (args["max_steps"], args["save_strategy"], args["save_steps"]) == (40, "steps", 10)
    assert args["eval_strategy"] == "steps" and args["gradient_checkpointing"] is False


@pytest.mark.parametrize("has_eval", [False, True])
def test_both_trl_configs_accept_the_arguments(tmp_path, has_eval):
    from trl import GRPOConfig, SFTConfig

    from engines import grpo, sft

    job, _ = _job(tmp_path, max_steps=5, save_steps=2, batch_size=4)
    job.settings = replace(job.settings, grpo=replace(job.settings.grpo, num_generations=4))
    sft_config = SFTConfig(**sft.config_args(job, has_eval))
    grpo_config = GRPOConfig(**grpo.config_args(job, has_eval))
    assert sft_config.max_length == 2048 and grpo_config.num_generations == 4
    for config in (sft_config, grpo_config):
        assert config.optim == "adamw_torch" and config.use_cpu and config.max_steps == 5
        assert not config.bf16 and config.logging_steps == 1


def test_the_trainer_runs_on_apple_mps_when_the_engine_chose_it(tmp_path):
    """`use_cpu=True` made transformers ignore mps: a Mac trained on its CPU."""
    mps = Runtime(cuda=False, local_rank=0, bf16_ok=True, mps=True)
    args = common_args(_job(tmp_path, mps)[0], has_eval=False)
    assert args["use_cpu"] is False and args["dataloader_pin_memory"] is False
    assert common_args(_job(tmp_path, CPU)[0], has_eval=False)["use_cpu"] is True
    assert common_args(_job(tmp_path, AMPERE)[0], has_eval=False)["use_cpu"] is False
