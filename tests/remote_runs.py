"""What the Slurm and ssh run tests share: the tiny demo profile with a `[launch]` table,
cockpit's and the engine's environment, and waiting for a run's summary."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cockpit.runs.status import RunSummary
from tests.engines.helpers import engine_env

SHIPPED = Path(__file__).resolve().parents[1] / "profiles"


def demo_profile(path: Path, steps: int, launch: str, *, save_steps: int | None = None) -> Path:
    """The tiny demo with `steps` steps, its data path absolute, and `launch` (TOML lines of
    the [launch] table) appended; written to `path`."""
    text = (SHIPPED / "tiny-demo-cpu.toml").read_text()
    text = text.replace("max_steps = 30", f"max_steps = {steps}")
    if save_steps is not None:
        text = re.sub(r"save_steps = \d+", f"save_steps = {save_steps}", text)
    text = text.replace('"data/demo.jsonl"', f'"{SHIPPED / "data" / "demo.jsonl"}"')
    path.write_text(text + "\n[launch]\n" + launch)
    return path


def remote_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]) -> dict:
    """Set (and return) the environment of cockpit and the engines it starts: runs, config
    and caches in tmp, no data pre-flight, plus `extra` (SLURM_CONF, the ssh config)."""
    values = engine_env(tmp_path / "cache", COCKPIT_RUNS_DIR=str(tmp_path / "runs"))
    values |= {"COCKPIT_CONFIG_DIR": str(tmp_path / "config"), "COCKPIT_DATA_PREFLIGHT": "0"}
    values |= extra
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def wait_summary(
    probe: Callable[[], RunSummary], done: Callable[[RunSummary], bool], timeout: float
) -> RunSummary:
    """Poll a run's summary until `done` holds; fail with the last one after `timeout`."""
    deadline = time.monotonic() + timeout
    summary = probe()
    while not done(summary):
        assert time.monotonic() < deadline, f"gave up waiting; last: {summary}"
        time.sleep(0.3)
        summary = probe()
    return summary
