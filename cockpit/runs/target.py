"""What a user means by a run or log named on the command line or typed in the Logs place.

One reading for `cockpit report`, `cockpit logs` and the Logs place's open prompt: an
existing path (a run directory, a log file), a path that does not exist yet but is
written like one (so the error names the file rather than a run id), else a run id or a
unique prefix of one. Callers say what they need from it (a run's report, its log).
"""

from __future__ import annotations

import os
from pathlib import Path

from cockpit.runs.store import RunDir, RunStoreError, find_run
from engines.protocol import OUTPUT_FILE, RUN_FILE

_LOG_SUFFIXES = (".log", ".txt", ".out")


def resolve_target(target: str) -> RunDir | Path:
    """The run directory `target` names (a folder holding run.json or output.log, or a run
    id / unique prefix), else the path it names; raises RunStoreError when it looks like
    neither a path nor a known run id."""
    path = Path(target).expanduser()
    if path.is_dir():
        if (path / RUN_FILE).exists() or (path / OUTPUT_FILE).exists():
            return RunDir(path)
        return path
    if path.exists() or "/" in target or os.sep in target or path.suffix in _LOG_SUFFIXES:
        return path
    return find_run(target)


def resolve_log(target: str) -> Path:
    """The log file `target` means: a run's output.log, or the file named; raises
    RunStoreError naming `target` when it is neither a file nor a known run id."""
    try:
        found = resolve_target(target)
    except RunStoreError as error:
        raise RunStoreError(f"{target}: not a file, and {error}") from error
    return found.output if isinstance(found, RunDir) else found
