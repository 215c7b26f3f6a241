"""The TUI never pays for the GPU stack, and the core logic never pulls in the UI.

Run in a fresh interpreter so modules imported by other tests don't leak in.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

GPU_STACK = ("torch", "transformers", "peft", "trl", "bitsandbytes", "unsloth", "accelerate")


def _modules_after(imports: str) -> set[str]:
    code = f"import sys, json\n{imports}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_the_tui_imports_no_gpu_stack():
    loaded = _top_level(
        _modules_after(
            "import cockpit.cli.main, cockpit.tui.app\n"
            "from cockpit.hardware.sampler import open_sampler\n"
            "open_sampler('rtx3050-4gb').sample()"
        )
    )
    assert not loaded & set(GPU_STACK), loaded & set(GPU_STACK)


@pytest.mark.parametrize(
    "module",
    [
        "cockpit.hardware.sampler",
        "cockpit.hardware.format",
        "cockpit.doctor.runner",
        "cockpit.doctor.finding",
        "cockpit.profiles.store",
        "cockpit.profiles.validate",
        "cockpit.vram.estimate",
        "cockpit.cli.profiles",
        "cockpit.knowledge.matcher",
        "cockpit.cli.explain",
        "cockpit.logs.source",
        "cockpit.report.build",
        "cockpit.cli.report",
        "cockpit.runs.launch_check",
        "cockpit.runs.feed",
        "cockpit.runs.endings",
        "cockpit.profiles.plan",
        "cockpit.profiles.fields",
    ],
)
def test_core_logic_imports_no_textual(module):
    loaded = _top_level(_modules_after(f"import {module}"))
    assert "textual" not in loaded
    assert not loaded & set(GPU_STACK)


def test_cli_startup_imports_neither_textual_nor_gpu_stack():
    loaded = _top_level(_modules_after("import cockpit.cli.main"))
    assert "textual" not in loaded and not loaded & set(GPU_STACK)


@pytest.mark.parametrize("module", ["engines.protocol", "engines.trace", "engines.__main__"])
def test_engines_import_neither_textual_nor_cockpit(module):
    loaded = _top_level(_modules_after(f"import {module}"))
    assert "textual" not in loaded and "cockpit" not in loaded


def test_engines_protocol_is_stdlib_only():
    loaded = _top_level(_modules_after("import engines.protocol"))
    assert not loaded & {"torch", "transformers", "numpy", "textual", "rich"}


def test_the_profile_schema_is_stdlib_only():
    loaded = _top_level(_modules_after("import engines.profile_schema"))
    assert not loaded & {"torch", "transformers", "numpy", "textual", "rich", "cockpit"}
