"""The estimator is fast enough for every keystroke; --trace of an 8B architecture is quick.

Figures: p95 of one analytic estimate (suggestions included: the 4 GB seed profile is
tight, so it gets them) against parsing the same profile's TOML, and the wall time of
`python -m engines trace` on Llama-3.1-8B against importing torch + transformers once.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from cockpit.profiles.validate import profile_to_raw
from cockpit.vram.estimate import estimate
from cockpit.vram.trace_client import trace_estimate
from engines.profile_schema import LoraSection, ModelSection, Profile, TrainSection

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CALLS = 500
pytestmark = pytest.mark.wallclock


def _seed(model: str = "unsloth/Llama-3.2-3B-Instruct-bnb-4bit") -> Profile:
    return Profile(
        name="bench",
        model=ModelSection(model, quantization="4bit", max_seq_length=2048),
        lora=LoraSection(r=16),
        train=TrainSection(
            batch_size=1, grad_accum=4, gradient_checkpointing="unsloth", optimizer="adamw_8bit"
        ),
    )


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def _timed(call, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def test_one_estimate_p95(report) -> None:
    profile = _seed()
    text = tomli_w.dumps(profile_to_raw(profile))
    estimate(profile, 4.0)  # warm the catalog cache, as the editor's first frame does
    figure = _p95(_timed(lambda: estimate(profile, 4.0), CALLS)) * 1000
    baseline = _p95(_timed(lambda: tomllib.loads(text), CALLS)) * 1000
    assert estimate(profile, 4.0).suggestions  # the timed call includes suggestions
    report(
        "estimate p95 (with suggestions)",
        figure,
        baseline,
        "ms",
        "<= 5 ms (baseline: tomllib parse of the same profile)",
    )
    assert figure < 50


def _wall(argv: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(argv, capture_output=True, check=True, timeout=300)
    return time.monotonic() - start


def test_trace_of_an_8b_architecture_wall_time(report, tmp_path: Path) -> None:
    path = tmp_path / "llama-8b.toml"
    path.write_text(tomli_w.dumps(profile_to_raw(_seed("meta-llama/Llama-3.1-8B-Instruct"))))
    baseline = _wall([sys.executable, "-c", "import torch, transformers, peft"])
    start = time.monotonic()
    result = trace_estimate(path, timeout=300)
    wall = time.monotonic() - start
    assert result.trainable_params == estimate(_seed("meta-llama/Llama-3.1-8B")).trainable_params
    report(
        "engines trace Llama-3.1-8B wall",
        wall,
        baseline,
        "s",
        "<= 10 s (baseline: import torch+transformers+peft once)",
    )
    assert wall < 120
