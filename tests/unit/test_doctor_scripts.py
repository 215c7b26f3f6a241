"""The scripts that run under the *target* interpreter must work in any Python 3.8+ env:
Python 3.8 grammar, and nothing but the standard library at module level."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from cockpit.doctor.probes import PROBE_SCRIPT
from cockpit.doctor.target import FACTS_SCRIPT


@pytest.mark.parametrize("script", [FACTS_SCRIPT, PROBE_SCRIPT], ids=lambda p: p.name)
def test_script_parses_as_python_38(script: Path):
    ast.parse(script.read_text(encoding="utf-8"), feature_version=(3, 8))


@pytest.mark.parametrize("script", [FACTS_SCRIPT, PROBE_SCRIPT], ids=lambda p: p.name)
def test_script_imports_only_the_stdlib_at_module_level(script: Path):
    tree = ast.parse(script.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    assert names - {"__future__"} <= set(sys.stdlib_module_names)
