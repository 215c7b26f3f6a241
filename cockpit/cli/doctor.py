"""`cockpit doctor [--json] [--python PY]`: the environment checklist, printed headless.

Exit code from `cockpit.doctor.runner.exit_code`. Rich for the colours, only when the
output is a terminal; the checks themselves know nothing of how they are shown.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

from cockpit.doctor.finding import GLYPHS, Finding, summary
from cockpit.doctor.profile_models import profile_models
from cockpit.doctor.runner import exit_code, run_doctor


def doctor_main(python: str | None, as_json: bool) -> int:
    """Run the doctor against `python` (None: this interpreter) and print the findings."""
    findings = run_doctor(python, models=profile_models())
    if as_json:
        print(json.dumps([f.to_json() for f in findings], indent=2))
    else:
        print_findings(findings)
    return exit_code(findings)


_STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def print_findings(findings: list[Finding], file=None) -> None:
    """Print findings for a terminal: glyph, title, detail, and the fix of anything not ok.

    Colour only when the output is a terminal (and NO_COLOR is unset), so pipes and logs
    stay plain.
    """
    console = Console(file=file, highlight=False, soft_wrap=True)
    for f in findings:
        style = _STYLES[f.status]
        console.print(f"[{style}]{GLYPHS[f.status]} {f.status:<4}[/] [bold]{escape(f.title)}[/]")
        console.print(f"       {escape(f.detail)}")
        if f.fix and f.status in ("fail", "warn"):
            for line in f.fix.splitlines():
                console.print(f"       [cyan]fix:[/] {escape(line)}")
    console.print(f"\n{summary(findings)}")
