"""The estimator on absurd inputs: a damaged config.json or a `--gpu-gib nan` gets a clear
refusal at once, never a machine eaten by per-layer lists or a "fits — nan% of nan GiB".

Subprocesses run under an address-space limit, so a regression fails instead of swapping.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cockpit.vram.catalog import entries
from cockpit.vram.lora import lora_params, matrix_shapes
from cockpit.vram.plan import make_plan
from cockpit.vram.resolve import resolve_model
from cockpit.vram.specs import UnknownModel, spec_from_config
from cockpit.vram.terms import _EIGHT_BIT_MIN, _param_shapes, optimizer_bytes
from engines.profile_schema import LoraSection, ModelSection, Profile, TrainSection

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 2 * 1024**3
TINY = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "vocab_size": 1000,
}


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A python subprocess that cannot use more than 2 GiB of address space."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


def _model_profile(tmp_path: Path, layers: str) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    text = json.dumps(TINY).replace('"num_hidden_layers": 2', f'"num_hidden_layers": {layers}')
    (model / "config.json").write_text(text)
    profile = tmp_path / "p.toml"
    profile.write_text(
        f'name = "p"\n[model]\nname_or_path = "{model}"\nquantization = "none"\n'
        '[lora]\nr = 8\n[data]\npath = "data.jsonl"\n'
    )
    return profile


@pytest.mark.slow
@pytest.mark.parametrize(("layers", "shown"), [("1e9", "1e+09"), ("1000000000", "1000000000")])
def test_a_config_with_a_billion_layers_is_refused_promptly(tmp_path, layers, shown) -> None:
    profile = _model_profile(tmp_path, layers)
    done = _python("-m", "cockpit", "estimate", str(profile), "--gpu-gib", "8", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"num_hidden_layers = {shown}; that is not a real model" in done.stderr
    assert "check the file" in done.stderr and "config.json" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [("hidden_size", 2_000_000), ("vocab_size", 10**9), ("intermediate_size", float("inf"))],
)
def test_sizes_no_model_has_are_refused_with_the_key_and_value(key, value) -> None:
    with pytest.raises(UnknownModel, match=f"{key} = .*not a real model"):
        spec_from_config(TINY | {key: value}, "x")


def test_a_config_adding_up_to_an_absurd_parameter_count_is_refused() -> None:
    huge = TINY | {"num_hidden_layers": 10_000, "hidden_size": 900_000}
    with pytest.raises(UnknownModel, match="parameters; that is not a real model"):
        spec_from_config(huge, "x")


def test_the_refusal_names_the_file_it_read(tmp_path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(TINY | {"vocab_size": 10**12}))
    with pytest.raises(UnknownModel, match=f"{tmp_path / 'config.json'} says vocab_size"):
        resolve_model(str(tmp_path))


def test_per_layer_work_does_not_grow_with_the_layer_count() -> None:
    spec = spec_from_config(TINY, "x")
    lora = LoraSection(r=8)
    deep = dataclasses.replace(spec, num_layers=1000)
    assert len(matrix_shapes(deep, lora)) == len(matrix_shapes(spec, lora))
    assert lora_params(deep, lora) == 500 * lora_params(spec, lora)


@pytest.mark.slow
def test_an_estimate_of_a_billion_layer_spec_stays_small(tmp_path) -> None:
    """Past the config check (a spec built directly), the arithmetic itself is O(1)."""
    script = textwrap.dedent(
        """
        import dataclasses, json, sys
        from engines.profile_schema import LoraSection, ModelSection, Profile, TrainSection
        from cockpit.vram.estimate import estimate
        from cockpit.vram.specs import ResolvedModel, spec_from_config
        spec = spec_from_config(json.loads(sys.argv[1]), "x")
        spec = dataclasses.replace(spec, num_layers=10**9)
        for lora in (LoraSection(r=8), None):
            for optimizer in ("adamw", "adamw_8bit", "adafactor"):
                profile = Profile(name="p", model=ModelSection("x"), lora=lora,
                                  train=TrainSection(optimizer=optimizer))
                result = estimate(profile, 8.0, model=ResolvedModel(spec, "test"))
                assert result.verdict == "won't fit", result.verdict
        print("ok")
        """
    )
    done = _python("-c", script, json.dumps(TINY), cwd=tmp_path)
    assert done.stdout.strip() == "ok", done.stderr


def _per_tensor_optimizer_bytes(plan, size: int, optimizer: str) -> float:
    """The pre-change reference: one list entry per tensor of every layer."""
    shapes, flat = _param_shapes(plan)
    tensors = [(rows, cols) for rows, cols, count in shapes for _ in range(count)]
    counts = [rows * cols for rows, cols in tensors] + ([flat] if flat else [])
    if optimizer == "adamw":
        return 2.0 * size * sum(counts)
    if optimizer == "adamw_8bit":
        return sum(2.03 * n if n >= _EIGHT_BIT_MIN else 8.0 * n for n in counts)
    return 4.0 * (sum(rows + cols for rows, cols in tensors) + flat)


@pytest.mark.parametrize(
    "lora", [LoraSection(r=16), None, LoraSection(r=8, target_modules=("q_proj", "lm_head"))]
)
def test_counted_shapes_give_the_per_tensor_numbers_for_every_catalog_model(lora) -> None:
    for entry in entries():
        profile = Profile(name="p", model=ModelSection(entry.id), lora=lora, train=TrainSection())
        plan = make_plan(profile, entry.spec)
        shapes, flat = _param_shapes(plan)
        for optimizer in ("adamw", "adamw_8bit", "adafactor"):
            expected = _per_tensor_optimizer_bytes(plan, 2, optimizer)
            assert optimizer_bytes(shapes, flat, 2, optimizer) == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "1e400", "lots"])
def test_gpu_gib_must_be_a_finite_positive_number(tmp_path, value) -> None:
    profile = _model_profile(tmp_path, "2")
    done = _python("-m", "cockpit", "estimate", str(profile), f"--gpu-gib={value}", cwd=tmp_path)
    assert done.returncode == 2
    assert "--gpu-gib: must be a finite number > 0" in done.stderr
    assert "nan%" not in done.stdout


def test_estimate_main_refuses_a_non_finite_card_too(tmp_path, capsys) -> None:
    from cockpit.cli.estimate import estimate_main

    assert estimate_main(str(_model_profile(tmp_path, "2")), float("nan"), False, True) == 2
    assert "--gpu-gib must be a finite number > 0" in capsys.readouterr().err
