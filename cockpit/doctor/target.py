"""Finding the interpreter to check and reading its facts.

`cockpit doctor --python PATH` may be handed a venv folder, a typo, a shell script or a
Python 2; each becomes one clear finding (``TargetError.finding``), never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from cockpit.doctor.facts import Facts
from cockpit.doctor.finding import Finding
from cockpit.isolated import run_isolated

FACTS_SCRIPT = Path(__file__).with_name("facts_script.py")
DEFAULT_FACTS_TIMEOUT_S = 30.0
_CANDIDATES = ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe")
_FIX = (
    "Point --python at the interpreter of your training environment, e.g."
    " ~/venvs/train/bin/python (Windows: C:\\envs\\train\\Scripts\\python.exe, conda:"
    " <env>/python.exe). Inside the activated env, `python -c 'import sys;"
    " print(sys.executable)'` prints it."
)


class TargetError(Exception):
    """The target interpreter could not be examined; ``finding`` says why and what to do."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.detail)
        self.finding = finding


def _fail(detail: str, fix: str = _FIX) -> TargetError:
    return TargetError(Finding("interpreter", "Python interpreter", "fail", detail, fix))


def resolve_python(python: str | None) -> str:
    """sys.executable for None; a venv/conda folder becomes the interpreter inside it."""
    if not python:
        return sys.executable
    path = Path(os.path.expanduser(python))
    if path.is_dir():
        for candidate in _CANDIDATES:
            if (path / candidate).is_file():
                return str(path / candidate)
    return str(path)


def _check_path(python: str) -> None:
    path = Path(python)
    if path.is_dir():
        raise _fail(f"--python {python} is a folder with no bin/python or python.exe inside.")
    if not path.exists():
        raise _fail(f"--python {python} does not exist.")
    if sys.platform != "win32" and not os.access(path, os.X_OK):
        raise _fail(f"--python {python} is not executable.")


def gather_facts(python: str, timeout: float = DEFAULT_FACTS_TIMEOUT_S) -> Facts:
    """Run the facts script under `python` and parse its answer; TargetError if impossible."""
    _check_path(python)
    outcome = run_isolated([python, "-I", str(FACTS_SCRIPT)], timeout)
    if outcome.start_error:
        raise _fail(f"{python} could not be started: {outcome.start_error}.")
    if outcome.timed_out:
        raise _fail(f"{python} did not answer within {timeout:g} s (hung at start-up).")
    stderr = outcome.stderr.strip()
    if outcome.returncode != 0:
        if "SyntaxError" in stderr or "importlib.metadata" in stderr:
            raise _fail(f"{python} is too old: the doctor needs Python 3.8 or newer.")
        died = outcome.signal_name or f"code {outcome.returncode}"
        raise _fail(f"{python} failed ({died}); is it a Python interpreter? {stderr[-300:]}")
    try:
        raw = json.loads(outcome.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise _fail(f"{python} printed no facts; is it a Python interpreter?") from None
    if not isinstance(raw, dict):
        raise _fail(f"{python} printed something other than facts.")
    return Facts.from_json(raw)
