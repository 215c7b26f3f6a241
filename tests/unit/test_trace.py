"""The analytic activation and LoRA terms agree with `python -m engines trace`.

The trace builds the real transformers architecture on the meta device and counts what
autograd saves; the estimator computes the same from formulas. Both run on 2-layer
versions of real configs (the per-layer terms are what differ between architectures;
more layers only multiply them), for the HF + PEFT path, which is what the trace
builds. They agree within 1 %: the accounting is per tensor, and what is left is a few
per-layer constants such as Gemma's (1 + weight) norm factor (a few KiB per layer).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from cockpit.profiles.validate import profile_to_raw
from cockpit.vram.activations import saved_logit_bytes
from cockpit.vram.catalog import lookup
from cockpit.vram.estimate import estimate
from cockpit.vram.specs import ResolvedModel
from cockpit.vram.trace_client import TraceFailed, trace_estimate
from engines.profile_schema import LoraSection, ModelSection, Profile, TrainSection

LAYERS, BATCH, SEQ = 2, 2, 256
TOLERANCE = 0.01

ARCHITECTURES = [
    "meta-llama/Llama-3.2-3B",
    "Qwen/Qwen3-0.6B",
    "google/gemma-2-2b",
    "Qwen/Qwen2.5-0.5B",
    "microsoft/Phi-3.5-mini-instruct",
    "stabilityai/stablelm-3b-4e1t",
]
VARIANTS = {
    "qlora": ({"quantization": "4bit"}, LoraSection(r=16)),
    "lora-fp32-adapters": ({"quantization": "none"}, LoraSection(r=16)),
    "qlora-dropout": ({"quantization": "4bit"}, LoraSection(r=8, dropout=0.1)),
    "qlora-eager": ({"quantization": "4bit", "attn_implementation": "eager"}, LoraSection(r=16)),
    "full-finetune": ({"quantization": "none"}, None),
}


@pytest.fixture(scope="module")
def training_stack() -> None:
    """Skip without torch, transformers and peft (imported here, not at collection)."""
    for name in ("torch", "transformers", "peft"):
        pytest.importorskip(name)


@pytest.fixture(scope="module")
def engine_trace(training_stack):
    """engines.trace, which imports torch."""
    from engines import trace

    return trace


def _small(name: str) -> ResolvedModel:
    spec = dataclasses.replace(lookup(name).spec, num_layers=LAYERS)
    return ResolvedModel(spec, "test: 2-layer " + name)


def _profile(name: str, model: dict, lora: LoraSection | None, ckpt: str) -> Profile:
    return Profile(
        name="trace-test",
        model=ModelSection(name, max_seq_length=SEQ, backend="peft", **model),
        lora=lora,
        train=TrainSection(batch_size=BATCH, gradient_checkpointing=ckpt),  # type: ignore[arg-type]
    )


def _trace(engine_trace, profile: Profile, resolved: ResolvedModel) -> dict:
    return engine_trace.run_trace(profile_to_raw(profile), resolved.spec.hf_config())


def _close(analytic: float, traced: float) -> bool:
    return abs(analytic - traced) <= TOLERANCE * traced


# every variant on three different layer shapes; QLoRA and full fine-tune on the rest
CASES = [(name, variant) for name in ARCHITECTURES[:3] for variant in VARIANTS] + [
    (name, variant) for name in ARCHITECTURES[3:] for variant in ("qlora", "full-finetune")
]


def _terms(profile: Profile, resolved: ResolvedModel) -> dict[str, float]:
    result = estimate(profile, 24.0, model=resolved, suggest=False)
    return {t.name: t.bytes for t in result.terms} | {"trainable": result.trainable_params}


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_analytic_activations_match_the_trace(name: str, variant: str, engine_trace) -> None:
    model, lora = VARIANTS[variant]
    resolved = _small(name)
    off = _profile(name, model, lora, "off")
    traced = _trace(engine_trace, off, resolved)
    # the log-softmax (and Gemma 2's tanh) are counted in the logits term
    log_softmax = saved_logit_bytes(resolved.spec) * BATCH * SEQ * resolved.spec.vocab_size
    terms = _terms(off, resolved)
    on = _terms(
        dataclasses.replace(off, train=TrainSection(BATCH, gradient_checkpointing="on")), resolved
    )
    saved_off = terms["activations"] + terms["lora_dropout"] + terms["attention_scores"]
    assert traced["trainable_params"] == terms["trainable"]
    assert _close(saved_off, traced["activations_off_bytes"] - log_softmax)
    assert _close(on["activations"], traced["activations_on_bytes"] - log_softmax)
    assert _close(terms["gradients"], traced["gradient_bytes"])
    assert _close(terms["optimizer"], traced["optimizer_bytes"])


def _write(tmp_path, profile: Profile):
    import tomli_w

    path = tmp_path / "profile.toml"
    path.write_bytes(tomli_w.dumps(profile_to_raw(profile)).encode())
    return path


@pytest.mark.slow
@pytest.mark.usefixtures("training_stack")
def test_trace_runs_in_a_child_process_with_the_catalog_config(tmp_path) -> None:
    profile = _profile(
        "HuggingFaceTB/SmolLM2-135M-Instruct", {"quantization": "4bit"}, LoraSection(r=8), "on"
    )
    result = trace_estimate(_write(tmp_path, profile), timeout=120)
    expected = estimate(profile, 8.0, suggest=False)
    assert result.trainable_params == expected.trainable_params
    assert (
        result.params == lookup("HuggingFaceTB/SmolLM2-135M").spec.params + result.trainable_params
    )
    assert result.activations_on_bytes < result.activations_off_bytes


@pytest.mark.usefixtures("training_stack")
def test_trace_of_an_unknown_model_fails_with_the_catalog_message(tmp_path) -> None:
    profile = _profile("acme/NotAModel-3B", {}, LoraSection(), "on")
    with pytest.raises(TraceFailed, match="not in cockpit's model catalog"):
        trace_estimate(_write(tmp_path, profile))


def test_trace_builds_the_tiny_demo_model_from_the_shared_config(engine_trace) -> None:
    profile = profile_to_raw(_profile("cockpit:tiny-llama", {}, LoraSection(r=4), "on"))
    data = engine_trace.run_trace(profile, engine_trace.model_config(profile))
    assert (
        data["trainable_params"]
        == estimate(
            Profile("t", ModelSection("cockpit:tiny-llama"), lora=LoraSection(r=4))
        ).trainable_params
    )
    assert data["layers"] == 2


@pytest.mark.slow
@pytest.mark.usefixtures("training_stack")
def test_engines_trace_command_reports_a_missing_profile(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "engines", "trace", str(tmp_path / "nope.toml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "nope.toml" in done.stderr
