"""A launch reads the profile file once: pre-flight loads it, the run freezes what was checked.

Reading the file again at each step (pre-flight, start, create) cost time and could freeze a
profile other than the one the user was shown a verdict for.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cockpit.cli.train import train_main
from cockpit.profiles import store
from cockpit.runs.launch_check import check_launch
from cockpit.runs.supervisor import start_run
from tests.runs_helpers import TINY

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

pytest_plugins = ["tests.runs_fixtures"]


@pytest.fixture
def reads(monkeypatch) -> Iterator[list[str]]:
    """The profile files the loader reads, in order."""
    seen: list[str] = []
    real = store.read_profile_text

    def counting(path):
        seen.append(str(path))
        return real(path)

    monkeypatch.setattr(store, "read_profile_text", counting)
    yield seen


def test_start_run_reads_the_profile_once(fake_engine, reads):
    start_run(TINY, gpu_sizes_gib=())
    print(f"start_run: {len(reads)} reads")
    assert reads == [str(TINY)]


def test_the_runs_place_checks_then_starts_with_one_read(fake_engine, reads):
    check = check_launch("tiny-demo-cpu", TINY, gpu_sizes_gib=())
    start_run(check.preflight.profile_path, checked=check.preflight)
    print(f"check_launch + start_run: {len(reads)} reads")
    assert reads == [str(TINY)]


def test_cockpit_train_reads_the_profile_once(fake_engine, reads, capsys):
    assert train_main(str(TINY), detach=True) == 0
    print(f"cockpit train: {len(reads)} reads")
    assert reads == [str(TINY)]
