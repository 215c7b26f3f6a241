"""Runs code stays light: no textual and no GPU stack, and the reaper needs almost nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

HEAVY = {"textual", "torch", "transformers", "peft", "trl", "bitsandbytes", "unsloth", "accelerate"}


def _top_level_after(imports: str) -> set[str]:
    code = f"import sys, json\n{imports}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


@pytest.mark.parametrize(
    "module",
    [
        "cockpit.runs.store",
        "cockpit.runs.status",
        "cockpit.runs.supervisor",
        "cockpit.runs.watcher",
        "cockpit.runs.preflight",
        "cockpit.cli.train",
    ],
)
def test_runs_modules_import_neither_textual_nor_the_gpu_stack(module):
    assert not _top_level_after(f"import {module}") & HEAVY


def test_the_reaper_imports_only_the_standard_library_and_the_protocol():
    loaded = _top_level_after("import cockpit.runs.reaper")
    assert not loaded & (HEAVY | {"rich", "platformdirs", "tomli_w", "psutil", "pynvml"})
