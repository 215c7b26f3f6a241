"""`cockpit report RUN_ID|LOGFILE [-o FILE] [--python PY]`: the post-mortem as Markdown.

The target is a path when one exists (a log file, or a run directory holding run.json),
else a run id or a unique prefix of one. Exit codes: 0 the report was written (whatever
became of the run: the report is the product), 2 nothing written (no such run, an
unreadable log, an unwritable output file), with the reason and what to do on stderr.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from cockpit.atomic import write_atomic
from cockpit.runs.store import RunDir, RunStoreError
from cockpit.runs.target import resolve_target
from engines.protocol import RUN_FILE, NotRegularFileError, open_regular

EXIT_WRITTEN = 0
EXIT_NOTHING = 2


class ReportTargetError(Exception):
    """The target names no run and no readable log; the message says what to do."""


def report_target(target: str) -> RunDir | Path:
    """The run or the readable log file that `target` names; raises ReportTargetError."""
    try:
        path = resolve_target(target)
    except RunStoreError as exc:
        raise ReportTargetError(f"{exc}; or give the path of a log file") from exc
    if isinstance(path, RunDir):
        return path
    if path.is_dir():
        raise ReportTargetError(
            f"{path} is a folder without a {RUN_FILE}: give a run directory, a run id"
            " (`cockpit runs` lists them) or a log file"
        )
    if not path.exists():
        raise ReportTargetError(f"no file {path}; give an existing log file or a run id")
    try:
        with open_regular(path):  # a FIFO or a device: refused, not read forever
            return path
    except NotRegularFileError as exc:
        raise ReportTargetError(f"{path} is {exc.strerror}; give a log file") from exc
    except OSError as exc:
        raise ReportTargetError(f"cannot read {path}: {exc.strerror or exc}") from exc


def report_main(target: str, output: str | None, python: str | None) -> int:
    """Build the post-mortem of `target`; print it, or write it to `output`. The exit code."""
    from cockpit.report.build import build_report

    try:
        resolved = report_target(target)
    except ReportTargetError as exc:
        _error(str(exc))
        return EXIT_NOTHING
    _error("checking the environment with the doctor (a few seconds)…")
    try:
        text = build_report(resolved, python=python)
    except Exception as exc:  # the report's sections are guarded; this is the last resort
        _error(f"could not build the report ({type(exc).__name__}: {exc}); please report it")
        return EXIT_NOTHING
    if output is None:
        _tolerate_narrow_console()
        sys.stdout.write(text)
        return EXIT_WRITTEN
    destination = Path(output).expanduser()
    try:
        write_atomic(destination, text.encode("utf-8"))
    except OSError as exc:
        _error(f"cannot write {destination}: {exc.strerror or exc}; choose another -o FILE")
        return EXIT_NOTHING
    print(f"wrote {destination}")
    return EXIT_WRITTEN


def _error(text: str) -> None:
    print(f"cockpit report: {text}", file=sys.stderr, flush=True)


def _tolerate_narrow_console() -> None:
    """Let a gbk/cp1252 console print the report: unencodable characters become '?'."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="replace")
