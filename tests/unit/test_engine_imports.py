"""The engine runs where cockpit is not installed, and reports even a broken GPU stack.

Each module is imported in a fresh interpreter and its `sys.modules` inspected; the shipped
tiny GRPO profile passes cockpit's own validation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.profiles.store import load_profile_file
from engines.protocol import TINY_LLAMA_ID, read_events

ROOT = Path(__file__).resolve().parents[2]
ENGINE_MODULES = (
    "engines.profile_schema",
    "engines.tiny",
    "engines.emitter",
    "engines.callbacks",
    "engines.modeling",
    "engines.unsloth_backend",
    "engines.job",
    "engines.data",
    "engines.rewards",
    "engines.sft",
    "engines.grpo",
    "engines.run",
    "engines.__main__",
)


def _top_level_after(imports: str) -> set[str]:
    code = f"import sys, json\n{imports}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


@pytest.mark.slow
def test_no_engine_module_imports_textual_or_cockpit():
    loaded = _top_level_after("\n".join(f"import {m}" for m in ENGINE_MODULES))
    assert "textual" not in loaded and "cockpit" not in loaded


@pytest.mark.slow
def test_the_run_entry_point_starts_without_the_gpu_stack():
    loaded = _top_level_after("import engines.run, engines.profile_schema, engines.emitter")
    assert not loaded & {"torch", "transformers", "trl", "peft", "datasets", "numpy"}


@pytest.mark.slow
def test_a_torch_that_fails_to_import_is_a_failed_run_with_the_reason(tmp_path):
    fake = tmp_path / "broken" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ImportError('numpy.core.multiarray failed to import (numpy 2 ABI)')\n"
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "profile.toml").write_text(
        f'name = "x"\n[model]\nname_or_path = "{TINY_LLAMA_ID}"\n', encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "broken"), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "engines", "run", str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    (end,) = [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == "end"]
    assert end["status"] == "failed" and end["error_class"] == "ImportError"
    assert "numpy 2 ABI" in end["error_message"] and "Traceback" in result.stderr


@pytest.mark.parametrize("name", ["tiny-grpo-cpu", "tiny-demo-cpu"])
def test_the_tiny_cpu_profiles_pass_cockpits_validation(name):
    loaded = load_profile_file(ROOT / "profiles" / f"{name}.toml")
    assert loaded.ok, loaded.problems
    assert loaded.profile is not None and loaded.profile.model.name_or_path == TINY_LLAMA_ID
    assert not [p for p in loaded.problems if p.severity == "error"]


def test_the_tiny_grpo_profile_is_a_small_grpo_run():
    profile = load_profile_file(ROOT / "profiles" / "tiny-grpo-cpu.toml").profile
    assert profile is not None and profile.engine == "grpo" and profile.grpo is not None
    assert profile.train.max_steps <= 10 and 2 <= profile.grpo.num_generations <= 4
    assert profile.train.batch_size % profile.grpo.num_generations == 0
