"""Benchmarks print their figure and a ratio to a baseline measured in the same run.

Each figure is attached to its test's report (user_properties, so it also travels from an
xdist worker) and printed by tests/conftest.py in a "benchmarks" section of pytest's
terminal summary, so figures show in CI logs without `-s`.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def report(request: pytest.FixtureRequest):
    """Call report("name", figure, baseline, unit, goal) to record one benchmark line."""

    def _report(name: str, figure: float, baseline: float, unit: str, goal: str) -> float:
        ratio = figure / baseline if baseline else float("inf")
        line = (
            f"{name}: {figure:.3f} {unit} | baseline {baseline:.3f} {unit} | "
            f"ratio {ratio:.2f} | goal {goal}"
        )
        request.node.user_properties.append(("benchmark", line))  # see tests/conftest.py
        return ratio

    return _report
