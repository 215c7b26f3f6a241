"""Benchmarks print their figure and a ratio to a baseline measured in the same run.

Figures are collected here and printed in pytest's terminal summary, so they show in CI
logs without `-s`.
"""

from __future__ import annotations

import pytest

from tests.e2e.tmux import Tmux

_FIGURES: list[str] = []


@pytest.fixture
def report():
    """Call report("name", figure, baseline, unit, goal) to record one benchmark line."""

    def _report(name: str, figure: float, baseline: float, unit: str, goal: str) -> float:
        ratio = figure / baseline if baseline else float("inf")
        _FIGURES.append(
            f"{name}: {figure:.3f} {unit} | baseline {baseline:.3f} {unit} | "
            f"ratio {ratio:.2f} | goal {goal}"
        )
        return ratio

    return _report


@pytest.fixture
def need_tmux():
    if not Tmux.available():
        pytest.fail("tmux is not installed; .ci/run installs it (apt-get install tmux)")


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("benchmarks")
        for line in _FIGURES:
            terminalreporter.write_line(line)
