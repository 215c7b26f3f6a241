"""The unit tier stays in-process, so that the fast loop stays fast.

A unit test that starts a process (subprocess, fork, os.system: the CLI as a user runs
it, a probe interpreter, a real engine) without the ``slow`` marker fails, naming what it
started. Mark it ``@pytest.mark.slow`` (the fast loop, ``-m "not e2e and not bench and
not slow"``, leaves it out; the full suite runs it) or move it to tests/engines.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def _recording(original: Callable[..., Any], spawned: list[str], what: Callable | str) -> Callable:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        spawned.append(what(*args) if callable(what) else what)
        return original(*args, **kwargs)

    return wrapper


def _argv(_popen: subprocess.Popen, args: Any, *_rest: Any) -> str:
    return args if isinstance(args, str) else " ".join(map(str, args))


@pytest.fixture(autouse=True)
def _no_data_preflight(request: pytest.FixtureRequest, monkeypatch) -> None:
    """Pre-flight's data check starts the engine (cockpit/runs/data_preflight.py): off in
    the unit tier unless the test is marked slow."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("COCKPIT_DATA_PREFLIGHT", "0")


@pytest.fixture(autouse=True)
def _spawning_is_slow(request: pytest.FixtureRequest, monkeypatch) -> Iterator[None]:
    """Fail a unit test without the ``slow`` marker that started a process."""
    if request.node.get_closest_marker("slow") is not None:
        yield
        return
    spawned: list[str] = []
    execute = subprocess.Popen._execute_child  # type: ignore[attr-defined]
    monkeypatch.setattr(subprocess.Popen, "_execute_child", _recording(execute, spawned, _argv))
    for name in ("fork", "system", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _recording(getattr(os, name), spawned, f"os.{name}"))
    yield
    if spawned:
        first = spawned[0][:200]
        pytest.fail(
            f"this unit test started {len(spawned)} process(es), first: {first}\n"
            "mark it @pytest.mark.slow or move it to tests/engines (see tests/unit/conftest.py)",
            pytrace=False,
        )
