"""The doctor's unit of output: one observation with its fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail", "skip"]

# Failures first, then warnings; within a status the checks keep their dependency order
# (interpreter before torch before unsloth), so the first failure shown is the one to fix.
STATUS_ORDER: dict[str, int] = {"fail": 0, "warn": 1, "ok": 2, "skip": 3}
GLYPHS: dict[str, str] = {"ok": "✔", "warn": "▲", "fail": "✘", "skip": "–"}


@dataclass(frozen=True)
class Finding:
    """One doctor finding (the JSON contract of `cockpit doctor --json`)."""

    id: str
    title: str
    status: Status
    detail: str
    fix: str = ""
    catalog_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ordered(findings: list[Finding]) -> list[Finding]:
    """Failures first, then warnings, ok and skipped; stable within a status."""
    return sorted(findings, key=lambda f: STATUS_ORDER[f.status])


def summary(findings: list[Finding]) -> str:
    """ "2 fail · 3 warn · 14 ok · 2 skip" (statuses with no finding are left out)."""
    counts = {s: sum(f.status == s for f in findings) for s in STATUS_ORDER}
    return " · ".join(f"{n} {s}" for s, n in counts.items() if n)
