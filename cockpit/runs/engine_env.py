"""How an engine process finds the `engines` package, and which engine module it runs.

Shared by the supervisor (training runs) and the data check (`python -m engines data`):
both start `engines` under the profile's training interpreter, which may be another
environment than cockpit's own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from engines import protocol

ENGINE_MODULE_ENV = "COCKPIT_ENGINE_MODULE"
"""Names a stand-in engine module (the tests' fake engine); unset: `engines`."""


def engine_tail(run_dir: str | Path, *, resume: bool = False, module: str = "engines") -> list[str]:
    """`-m engines run RUN_DIR [--resume]`: what every launcher (python, accelerate, srun,
    ssh) runs."""
    return ["-m", module, "run", str(run_dir), *(["--resume"] if resume else [])]


def engines_search_path(run_dir: Path, *, stage: bool = True) -> Path:
    """The folder to put on the engine's PYTHONPATH so that `import engines` works
    (`stage=False`: where it will be, nothing copied: a dry run)."""
    package = Path(protocol.__file__).resolve().parent
    if package.parent.name not in ("site-packages", "dist-packages"):
        return package.parent
    staged = run_dir / ".engines"
    if not stage:
        return staged
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(package, staged / "engines", ignore=shutil.ignore_patterns("__pycache__"))
    return staged


class EngineCommandError(Exception):
    """A run's engine cannot be started: its profile or interpreter is missing."""


def run_engine_command(run: Any, command: str, *args: str) -> list[str]:
    """`python -m engines COMMAND ARGS…` under the run's training interpreter (its frozen
    profile's `[env] python`, else cockpit's own): how the chat engine and exports start."""
    from cockpit.runs.interpreter import training_interpreter
    from engines.profile_schema import read_profile

    profile_file = run.path / protocol.PROFILE_FILE
    if not profile_file.is_file():
        raise EngineCommandError(f"{run.id} has no {profile_file.name}: not a run folder")
    try:
        profile = read_profile(profile_file)
    except (OSError, ValueError) as exc:  # tomllib's TOMLDecodeError is a ValueError
        raise EngineCommandError(f"cannot read {profile_file}: {exc}") from exc
    python, refusals = training_interpreter(profile)
    if refusals:
        raise EngineCommandError(f"{refusals[0].message}: {refusals[0].fix}")
    module = os.environ.get(ENGINE_MODULE_ENV) or "engines"
    return [python, "-m", module, command, *args]


def run_engine_env(run: Any) -> dict[str, str]:
    """The environment of an engine process for `run`: `engines` importable, unbuffered."""
    path = [str(engines_search_path(run.path)), os.environ.get("PYTHONPATH", "")]
    return os.environ | {
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
    }
