"""`cockpit explain FILE [--json]`: the known causes in a log, with their fixes.

Logs arrive in any state (binary junk, NUL bytes, GBK from a Chinese-locale Windows
console, CRLF, one enormous line), so reading is best effort and never raises; only a
file that cannot be read at all is an error (exit 2, reason on stderr). A log may also
hold terminal control sequences (clear screen, set the clipboard or title): they are shown
escaped (`cockpit.termsafe`), in the text and in `--json`, never sent to the terminal.

Besides known causes, a failure no cause explains is listed as ``unrecognized_error``
with what the log says about it (exception, raising package, the user's frame, what to
search for); in `--json` that is the finding's ``failure`` object, absent on known causes.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import asdict
from typing import Any, TextIO

from cockpit.knowledge.matcher import Match, scan_file
from cockpit.termsafe import safe, safe_json

EXIT_CLEAN = 0
EXIT_ERRORS = 1
EXIT_UNREADABLE = 2


def _human(matches: list[Match], path: str, out: TextIO) -> None:
    path = safe(path)
    if not matches:
        out.write(f"{path}: no known problems found.\n")
        return
    out.write(f"{path}: {_count(matches)}\n")
    for match in matches:
        out.write(f"\nline {match.line}: [{match.severity}] {safe(match.title)} ({match.id})\n")
        out.write(f"  > {safe(match.excerpt)}\n")
        if match.failure is not None:
            for label, value in match.failure.summary():
                out.write(f"  {label + ':':<11} {safe(value)}\n")
        out.write("  fix:\n")
        for fix_line in match.fix.splitlines():
            out.write(f"    {safe(fix_line)}\n")


def _count(matches: list[Match]) -> str:
    """ "2 known problem(s)", "1 unrecognized error", or both."""
    unknown = sum(match.failure is not None for match in matches)
    known = len(matches) - unknown
    parts = [f"{known} known problem(s)"] if known else []
    parts += [f"{unknown} unrecognized error(s)"] if unknown else []
    return ", ".join(parts)


def finding_json(match: Match) -> dict[str, Any]:
    """A finding as JSON: known causes keep their six keys; an unrecognized error adds
    ``failure``."""
    data = asdict(match)
    if data["failure"] is None:
        del data["failure"]
    return data


def _tolerate_narrow_console() -> None:
    """Let a gbk/cp1252 console print log excerpts: unencodable characters become '?'."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="replace")


def explain_main(path: str, as_json: bool) -> int:
    """Print the known causes found in the log at `path`; 0 clean, 1 errors, 2 unreadable."""
    try:
        matches = scan_file(path)
    except OSError as exc:
        reason = exc.strerror if exc.strerror and exc.filename else str(exc)
        sys.stderr.write(safe(f"cockpit explain: cannot read {path}: {reason}") + "\n")
        return EXIT_UNREADABLE
    _tolerate_narrow_console()
    if as_json:
        sys.stdout.write(safe_json([finding_json(match) for match in matches], indent=2) + "\n")
    else:
        _human(matches, path, sys.stdout)
    has_error = any(match.severity == "error" for match in matches)
    return EXIT_ERRORS if has_error else EXIT_CLEAN
