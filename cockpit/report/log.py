"""The post-mortem of a log file, and the pieces a run's post-mortem shares with it: the
known-error scan, the environment the doctor saw, the findings and what to fix first.

A log arrives in any state: missing, unreadable, empty, binary, UTF-16 (Windows
PowerShell); each becomes a sentence saying so, never an exception. A failure no catalog
cause explains is a finding too (``unrecognized_error``): the report says what failed and
shows the log's last lines beside it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cockpit.doctor.finding import GLYPHS, Finding
from cockpit.knowledge.catalog import by_id
from cockpit.knowledge.matcher import Match, scan_file
from cockpit.logtext import decode, detect_encoding, display_line, looks_binary, to_utf8
from cockpit.report.markdown import Shipped, code_block, guarded, table_cell
from engines.protocol import open_regular

TAIL_LINES = 20
"""Lines of the log shown when no known error explains how it ended."""
MAX_FINDINGS = 20
"""Known-error findings written in full; `cockpit explain` lists them all."""
_TAIL_BYTES = 64 * 1024
_PLATFORM_CHECKS = (("platform", "Platform"), ("python_version", "Python"), ("torch", "torch"))


@dataclass(frozen=True)
class LogScan:
    """What the known-error scan of one log found, and what was wrong with the log."""

    path: Path
    matches: tuple[Match, ...]
    tail: tuple[str, ...]
    problem: str = ""
    """Why the log could not be (fully) used: missing, unreadable, empty, binary."""


def log_report_lines(
    path: Path, python: str | None, doctor_findings: Sequence[Finding] | None
) -> list[str]:
    """Title, verdict, environment, findings and retry of a plain log file."""
    scan = scan_log(path)
    lines = [f"# Post-mortem: {path.name}", "", f"**Verdict:** {_log_verdict(scan)}", ""]
    lines += [f"- Log: `{path}`", ""]
    if doctor_findings is None:
        from cockpit.doctor.runner import run_doctor

        doctor_findings = run_doctor(python)
    findings = doctor_findings
    checked = f"`{python}`" if python else ""
    lines += guarded("Environment", lambda: environment(findings, checked))
    lines += guarded("Findings", lambda: findings_section(scan, findings))
    lines += guarded("Retry", lambda: ["## Retry", "", *fix_first(scan, findings, path)])
    return lines


def _log_verdict(scan: LogScan) -> str:
    if scan.problem and not scan.matches:
        return scan.problem
    return first_cause(scan.matches) or "no known problems found"


def first_cause(matches: Sequence[Match]) -> str:
    """ "CUDA out of memory (cuda_oom)" for the first error found (else the first warning)."""
    errors = [m for m in matches if m.severity == "error"] or list(matches)
    return f"{errors[0].title} ({errors[0].id})" if errors else ""


def scan_log(path: Path) -> LogScan:
    """The known errors in the log at `path`, its last lines, and what was wrong with it."""
    try:
        with open_regular(path) as handle:  # a FIFO or a device would hang or never end
            head = handle.read(8192)
        matches = tuple(scan_file(path))
    except FileNotFoundError:
        return LogScan(path, (), (), f"no log: {path} does not exist")
    except OSError as exc:
        return LogScan(path, (), (), f"the log {path} could not be read ({exc.strerror or exc})")
    if not head.strip():
        return LogScan(path, (), (), f"the log {path.name} is empty")
    if looks_binary(head):
        return LogScan(path, matches, (), f"{path.name} looks like binary data, not a text log")
    return LogScan(path, matches, tuple(tail_lines(path)))


def tail_lines(path: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last lines of a log as a terminal shows them (progress-bar redraws collapsed)."""
    try:
        with open_regular(path) as handle:
            encoding = detect_encoding(handle.read(8192))
            size = handle.seek(0, os.SEEK_END)
            start = max(size - _TAIL_BYTES, 0)
            handle.seek(start - start % encoding.unit)
            data = to_utf8(handle.read(), encoding)
    except OSError:
        return []
    shown = [display_line(decode(line)).rstrip() for line in data.split(b"\n")]
    return [line for line in shown if line][-lines:]


def environment(findings: Sequence[Finding], checked: str) -> list[str]:
    """The doctor's failures and warnings with their fixes, the rest as counts; `checked`
    names the interpreter the findings are about."""
    lines = ["## Environment", ""]
    checked = checked or f"`{sys.executable}`, the interpreter running cockpit"
    lines += [f"The environment as the doctor finds it now (it may have changed since): {checked}."]
    by_check = {f.id: f for f in findings}
    facts = [f"- {label}: {by_check[i].detail}" for i, label in _PLATFORM_CHECKS if i in by_check]
    lines += ["", *facts] if facts else []
    problems = [f for f in findings if f.status in ("fail", "warn")]
    lines += [""] if problems else []
    for f in problems:
        lines.append(f"- {GLYPHS[f.status]} **{f.status}** {f.title} (`{f.id}`): {f.detail}")
        lines += [f"  - fix: {line}" for line in f.fix.splitlines() if line.strip()]
    counts = {s: sum(f.status == s for f in findings) for s in ("fail", "warn", "ok", "skip")}
    lines += ["", f"{counts['ok']} checks passed, {counts['skip']} skipped,"]
    lines[-1] += f" {counts['warn']} warning(s), {counts['fail']} failure(s)."
    return lines


def findings_section(scan: LogScan, doctor: Sequence[Finding] | None) -> list[str]:
    """Each known error found in the log, with its excerpt, explanation, fix and checks."""
    lines = ["## Findings", ""]
    if scan.problem:
        lines += [f"_{scan.problem}._", ""]
    if not scan.matches:
        lines += [f"No known error found in `{scan.path.name}`."]
        if scan.tail:
            lines += ["", "It ended with these lines:", "", *code_block("\n".join(scan.tail))]
        return lines
    statuses = {f.id: f.status for f in doctor or ()}
    for number, match in enumerate(scan.matches[:MAX_FINDINGS], start=1):
        lines += _finding(number, match, statuses)
    if len(scan.matches) > MAX_FINDINGS:
        more = len(scan.matches) - MAX_FINDINGS
        lines += [f"{more} more; `cockpit explain {scan.path}` lists them all."]
    errors = [m for m in scan.matches if m.severity == "error"]
    if scan.tail and errors and all(m.failure is not None for m in errors):
        lines += ["No known cause explains it; the log ended with these lines:", ""]
        lines += code_block("\n".join(scan.tail))
    return lines


def _finding(number: int, match: Match, statuses: dict[str, str]) -> list[str]:
    entry = by_id(match.id)
    lines = [f"### {number}. {match.title} (`{match.id}`), {match.severity}", ""]
    lines += [f"line {match.line}:", "", *code_block(match.excerpt), ""]
    if entry is not None:
        lines += [Shipped(line) for line in entry.explanation.splitlines()] + [""]
    if match.failure is not None:
        rows = match.failure.summary()
        lines += [f"- {label}: {table_cell(value, 400)}" for label, value in rows] + [""]
    lines += ["Fix:", "", *code_block(match.fix, shipped=match.failure is None), ""]
    if entry is not None and entry.doctor:
        from cockpit.doctor.checks import TITLES

        checks = [f"{TITLES.get(c, c)} (`{c}`: {statuses.get(c, 'not run')})" for c in entry.doctor]
        lines += ["Related doctor checks: " + ", ".join(checks) + ".", ""]
    return lines


def fix_first(scan: LogScan | None, doctor: Sequence[Finding] | None, log: Path) -> list[str]:
    """The fix of the first error found (log first, then the doctor's first failure)."""
    errors = [m for m in scan.matches if m.severity == "error"] if scan else []
    if errors:
        first = errors[0]
        head = f"Before retrying, fix the first error found, {first.title} (`{first.id}`):"
        return [head, "", *code_block(first.fix, shipped=first.failure is None)]
    failed = [f for f in doctor or () if f.status == "fail" and f.fix]
    if failed:
        head = f"Before retrying, fix the doctor's first failure, {failed[0].title}:"
        return [head, "", *code_block(failed[0].fix)]
    return [f"No known error to fix first; `cockpit explain {log}` annotates the whole log."]
