"""The data check's report as a few lines of text (`python -m engines data PROFILE`)."""

from __future__ import annotations

from typing import Any


def format_text(report: dict[str, Any]) -> str:
    """Summary, token lengths, steps and findings: what a person reads in a terminal."""
    lines = [
        f"{report['source']}: {report['rows']} rows, {report.get('encoding') or '?'}, "
        f"format {report['format'] or 'unknown'} ({report['format_reason'] or 'not detected'})",
    ]
    tokenizer = report.get("tokenizer") or {}
    if tokenizer.get("note"):
        lines.append(f"tokenizer: {tokenizer['note']}")
    lengths = report.get("token_lengths")
    if lengths:
        lines.append(
            f"{lengths['of']} tokens: p50 {lengths['p50']}, p95 {lengths['p95']}, max "
            f"{lengths['max']}; {lengths['over_limit']} over the limit {lengths['limit']} "
            f"({lengths['tokens_lost']} tokens cut)"
        )
    trainable = report.get("trainable")
    if trainable:
        lines.append(
            f"trained tokens ({trainable['trained_on']}): {trainable['total']} in all, "
            f"median {trainable['per_row']['p50']} per row, {trainable['zero_rows']} rows with none"
        )
    if report.get("steps_per_epoch") is not None:
        lines.append(
            f"{report['steps_per_epoch']} optimizer steps per epoch "
            f"({report['examples_per_step']} per step)"
            + (f"; {report['estimate_note']}" if report.get("estimate_note") else "")
        )
    for item in report["findings"]:
        lines.append(f"{item['severity']}: {item['id']}: {item['detail']}")
        lines.append(f"  fix: {item['fix']}")
    if not report["findings"]:
        lines.append("no findings")
    return "\n".join(lines)
