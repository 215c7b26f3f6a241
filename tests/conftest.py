"""The suite's tiers, applied by directory so a new test file is in the right one by default.

Markers (declared in pyproject.toml; select with ``-m``):

- ``bench``: every test under tests/bench. They measure time and print figures.
- ``e2e``: every test under tests/e2e, and any test that needs tmux or Chromium.
- ``slow``: tests/engines (real CPU training) and tests/e2e, plus tests marked by hand:
  over ~5 s, or spawning processes (tests/unit/conftest.py enforces the latter).

Also here, because the controller of a parallel (xdist) run loads only this conftest:
the "benchmarks" section (figures travel from the workers in each report's
user_properties), and a guard that makes collection fail, naming the file, when a test
module imports the training stack at import time (collection must stay cheap).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

from tests import system_tools

# Fixtures of real system services: `sshd_hosts` (an sshd on 127.0.0.1), `slurm_cluster`
# (a single-node Slurm with munge).
pytest_plugins = ["tests.sshd", "tests.slurm"]

TESTS = Path(__file__).resolve().parent
BY_DIRECTORY = {"bench": ("bench",), "e2e": ("e2e", "slow"), "engines": ("slow",)}
"""Markers every test under tests/<directory> gets."""
FIRST = ("e2e", "engines", "bench")
"""The longest tests start first, so that a parallel run does not end waiting on one."""
TOOL_FIXTURES = ("need_tmux", "need_chromium")
"""A test that asks for one of these drives a real terminal or browser: it is e2e."""
HEAVY = ("torch", "transformers", "trl", "peft", "datasets", "accelerate")
"""Imported only inside the tests that use them, never at collection."""
BENCHMARK_PROPERTY = "benchmark"

# The training children of the suite (engines, `cockpit train`, the tmux walks) each take
# one core: several run at once on a machine this size, and torch's own threads then wait
# on each other for cores, spending CPU seconds on nothing. A user's shell keeps its own.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Where no bytecode may be written beside the sources (PYTHONDONTWRITEBYTECODE), the suite's
# hundreds of child processes (cockpit, engines, the tmux walks) would each compile every
# module they import again: they compile once, into a cache outside the tree, instead.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
    sys.dont_write_bytecode = False
    PYCACHE = Path(tempfile.gettempdir()) / f"cockpit-tests-pycache-{os.getuid()}"
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]

_heavy_seen = {name for name in HEAVY if name in sys.modules}
_figures: list[str] = []


@pytest.hookimpl(optionalhook=True)  # xdist may be absent or off (-p no:xdist)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores. Many tests spend part of their time
    waiting (on a training child, a terminal, a measurement window), and a worker that
    waits leaves its core idle; a third worker on this 2-core machine keeps both busy."""
    return len(os.sched_getaffinity(0)) + 1


@pytest.fixture(autouse=True)
def _no_hub_probe(monkeypatch) -> None:
    """Pre-flight never asks the model hub here (cockpit/runs/model_source.py): otherwise
    whether a shipped profile's hub model may start would follow this machine's network.
    Tests of the probe inject their own hub answers."""
    monkeypatch.setenv("COCKPIT_HUB_PROBE", "0")


@pytest.fixture(autouse=True)
def _own_config(monkeypatch, tmp_path_factory) -> None:
    """settings.toml and the user's profiles are read from a folder of the test's own unless
    the test names one: never the developer's, whose `[notify] urls` must not hear of the
    suite's runs and whose own profiles would change what the tests see."""
    monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cockpit-cache")


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch, _session_cache) -> None:
    """Data-check reports (cockpit/runs/datacheck.py) are cached in this session's own
    folder, never in the user's: shared by the tests of one worker, as by one user's
    starts."""
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(_session_cache))


@pytest.fixture
def need_tmux() -> None:
    """Fail in CI, skip locally, when tmux is not installed."""
    system_tools.need_tmux()


@pytest.fixture
def need_chromium() -> None:
    """Fail in CI, skip locally, when no Chromium-family browser is installed."""
    system_tools.need_chromium()


def _top_directory(item: pytest.Item) -> str:
    try:
        return item.path.resolve().relative_to(TESTS).parts[0]
    except ValueError:
        return ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = list(BY_DIRECTORY.get(_top_directory(item), ()))
        if any(f in TOOL_FIXTURES for f in getattr(item, "fixturenames", ())):
            names.append("e2e")
        for name in dict.fromkeys(names):
            if item.get_closest_marker(name) is None:
                item.add_marker(name)
    rank = {top: i for i, top in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(_top_directory(item), len(FIRST)))


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Make the collection of a file that imported the training stack an error."""
    report = yield
    new = [name for name in HEAVY if name in sys.modules and name not in _heavy_seen]
    _heavy_seen.update(new)
    if new and not report.failed:
        report.outcome = "failed"
        report.longrepr = (
            f"collecting {report.nodeid or 'the tests'} imported {', '.join(new)}: import "
            "the training stack inside the tests (or fixtures) that use it, so that "
            "collecting the suite stays fast (see tests/conftest.py)"
        )
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gather benchmark figures, also those sent by xdist workers."""
    if report.when == "call":
        _figures.extend(v for k, v in report.user_properties if k == BENCHMARK_PROPERTY)


def pytest_terminal_summary(terminalreporter) -> None:
    if _figures:
        terminalreporter.section("benchmarks")
        for line in _figures:
            terminalreporter.write_line(line)
