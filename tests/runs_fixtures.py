"""Fixtures for the runs tests (a pytest plugin: `pytest_plugins = ["tests.runs_fixtures"]`).

Every run a test starts lives under a temporary COCKPIT_RUNS_DIR; at teardown each run's
process group (reaper + engine) that still lives is killed, so no test leaves processes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.runs_helpers import kill_runs


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Iterator[Path]:
    """A temporary runs root (COCKPIT_RUNS_DIR) whose runs are killed at teardown."""
    root = tmp_path / "runs"
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(root))
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path / "cache"))
    yield root
    kill_runs(root)


@pytest.fixture
def fake_engine(runs_dir, monkeypatch) -> Callable[[str], None]:
    """Use tests/fake_engine.py as the engine; call it with its FAKE_ENGINE options."""
    monkeypatch.setenv("COCKPIT_ENGINE_MODULE", "tests.fake_engine")

    def configure(options: str = "") -> None:
        monkeypatch.setenv("FAKE_ENGINE", options)

    configure()
    return configure
