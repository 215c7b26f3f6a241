"""The data check before a start: what would crash or waste the run is refused first.

Pre-flight runs the engine's quick data check (`python -m engines data --quick`: reading,
mapping and format without a tokenizer, so transformers is never imported and a malformed
line is named in a fraction of a second) or takes a full report already cached for the
same data (`cockpit data`, the Data place). Error findings refuse the start with their
lines and fix (`--force` / `f` starts anyway, warned); warnings start warned.
``COCKPIT_DATA_PREFLIGHT=0`` leaves it out (the unit tests, which start no process).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cockpit.runs.datacheck import run_data_check
from cockpit.runs.refusal import FORCE, Refusal

DataCheck = Callable[[Path, str, Path], tuple["dict[str, Any] | None", "str | None"]]
"""(profile file, training interpreter, data file) → (the engine's report, or why there is
none)."""
DATA_PREFLIGHT_ENV = "COCKPIT_DATA_PREFLIGHT"
_LINES_SHOWN = 5
_TIMEOUT_S = 120.0


def default_data_check() -> DataCheck | None:
    """The quick check, unless ``COCKPIT_DATA_PREFLIGHT=0`` turns it off."""
    return None if os.environ.get(DATA_PREFLIGHT_ENV, "1") == "0" else quick_data_check


def quick_data_check(
    profile_path: Path, python: str, data: Path
) -> tuple[dict[str, Any] | None, str | None]:
    """The engine's quick check (or a full report cached for the same data)."""
    return run_data_check(
        profile_path, python, limit=0, quick=True, timeout=_TIMEOUT_S, source=data
    )


def data_check_findings(
    profile_path: Path, python: str, data: Path, check: DataCheck, force: bool
) -> tuple[list[Refusal], list[Refusal], list[str]]:
    """(refusals, warnings, notes) from the data check's findings."""
    report, error = check(profile_path, python, data)
    if report is None:
        return [], [], [f"could not check the data: {error}"] if error else []
    refusals, warnings, notes = [], [], []
    for found in report.get("findings") or []:
        if not isinstance(found, dict):
            continue
        refusal = _refusal(found)
        if found.get("severity") != "error":
            warnings.append(refusal)
        elif force:
            notes.append(f"{refusal.where}{refusal.message}; starting anyway ({FORCE})")
        else:
            refusals.append(refusal)
    return refusals, warnings, notes


def _refusal(found: dict[str, Any]) -> Refusal:
    detail = str(found.get("detail") or "").rstrip(".")
    message = f"{found.get('id', 'data')}: {detail}{_where(found)}"
    fix = str(found.get("fix") or "see `cockpit data PROFILE`")
    if found.get("severity") == "error":
        fix += f"; or {FORCE} to start anyway"
    return Refusal("data.path", message, fix, "datacheck")


def _where(found: dict[str, Any]) -> str:
    lines = [n for n in found.get("lines") or [] if isinstance(n, int)]
    if not lines:
        return ""
    count = max(int(found.get("count") or 0), len(lines))
    shown = ", ".join(str(n) for n in lines[:_LINES_SHOWN])
    more = f" and {count - _LINES_SHOWN} more" if count > _LINES_SHOWN else ""
    return f" (line {shown})" if count == 1 else f" (lines {shown}{more})"
