"""Run directories and engine subprocesses for the real-training tests and the benchmark.

Every engine process gets a private tiny-model cache, an offline Hugging Face home and
one thread per rank, so runs are reproducible and never reach the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomli_w

from engines.protocol import EVENTS_FILE, PROFILE_FILE, read_events

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "profiles"
RUN_TIMEOUT = 240


def engine_env(cache: Path, **extra: str) -> dict[str, str]:
    """The environment of an engine process: offline, a private cache, the repo importable."""
    env = dict(os.environ)
    env.update(
        COCKPIT_CACHE_DIR=str(cache / "cockpit"),
        HF_HOME=str(cache / "hf"),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        OMP_NUM_THREADS="1",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    env.update(extra)
    return env


def make_run_dir(
    parent: Path,
    profile: str,
    name: str = "run",
    without: tuple[str, ...] = (),
    **overrides: dict[str, Any],
) -> Path:
    """A run dir holding a frozen copy of a shipped profile: data path made absolute, tables
    updated from ``overrides`` (e.g. ``train={"max_steps": 5}``), ``without`` tables left out."""
    with open(PROFILES / f"{profile}.toml", "rb") as handle:
        raw = tomllib.load(handle)
    for table in without:
        raw.pop(table, None)
    data = raw.setdefault("data", {})
    if not Path(data["path"]).is_absolute():
        data["path"] = str((PROFILES / data["path"]).resolve())
    for table, values in overrides.items():
        raw.setdefault(table, {}).update(values)
    run_dir = parent / name
    run_dir.mkdir(parents=True)
    (run_dir / PROFILE_FILE).write_text(tomli_w.dumps(raw), encoding="utf-8")
    return run_dir


def engine_command(run_dir: Path, *args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "engines", "run", str(run_dir), *args]


def run_engine(
    run_dir: Path, env: dict[str, str], *args: str, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    """Run the engine to its end, output captured in RUN_DIR/output.log as the supervisor does."""
    with open(run_dir / "output.log", "a", encoding="utf-8") as log:
        return subprocess.run(
            engine_command(run_dir, *args, python=python),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=run_dir,
            timeout=RUN_TIMEOUT,
            text=True,
        )


def events(run_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    found = read_events(run_dir / EVENTS_FILE)
    return [e for e in found if kind is None or e["kind"] == kind]


def output(run_dir: Path) -> str:
    path = run_dir / "output.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
