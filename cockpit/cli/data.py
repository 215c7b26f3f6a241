"""`cockpit data PROFILE [--json] [--rows N,M]`: the profile's data as the trainer sees it.

The check itself runs in the engine under the profile's training interpreter
(`cockpit.runs.datacheck`); this prints it for a person: file facts, format and why, the
column mapping, the token-length histogram with the limit marked, trained tokens, steps
per epoch, each finding with its lines and fix, and a preview of the first rows with the
trained text told apart from the masked text: by colour on a terminal that has it, by
«guillemets» around the trained text where it has none (NO_COLOR, a pipe). `--json` prints
the engine's object unchanged. Exit status as the engine's: 0 no error finding, 1 error
findings, 2 the check could not run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.text import Text

from cockpit.runs import data_view
from cockpit.runs.data_view import shown
from cockpit.termsafe import safe, safe_json

EXIT_OK, EXIT_ERRORS, EXIT_FAILED = 0, 1, 2
CHART_WIDTH = 64
TRAINED_STYLE = "green underline"
MASKED_STYLE = "dim"
SEVERITY = {"error": ("✗ error  ", "bold red"), "warning": ("! warning", "yellow")}


def parse_rows(text: str | None) -> list[int] | None:
    """ "3,17" → [3, 17]; None when the text is not a list of line numbers ≥ 1."""
    if not text:
        return []
    try:
        rows = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        return None
    return rows if all(r >= 1 for r in rows) else None


def data_main(ref: str, as_json: bool, rows_text: str | None = None) -> int:
    """Check a profile's data (a file or a listed name) and print the report."""
    from cockpit.profiles.store import find_profile
    from cockpit.runs.datacheck import run_data_check

    rows = parse_rows(rows_text)
    if rows is None:
        print(
            f"cockpit data: --rows takes line numbers like 3,17, not {rows_text!r}", file=sys.stderr
        )
        return EXIT_FAILED
    path = find_profile(ref)
    if path is None:
        print(
            safe(f"cockpit data: no profile file or listed profile named {ref!r}")
            + " (`cockpit profiles` lists them)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    report, error = run_data_check(path, rows=rows, progress=_progress_printer(as_json))
    if report is None:
        print(safe(f"cockpit data: {error}"), file=sys.stderr)
        return EXIT_FAILED
    if as_json:
        print(safe_json(report))
    else:
        print_report(report, rows)
    return EXIT_OK if report.get("ok") else EXIT_ERRORS


def _progress_printer(quiet: bool) -> Any:
    """ "checking the data… 42 %" over itself on a terminal's stderr; nothing elsewhere."""
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: float) -> None:
        end = "\n" if done >= 1.0 else ""
        print(f"\rchecking the data… {done * 100:3.0f} %", end=end, file=sys.stderr, flush=True)

    return show


def print_report(
    report: Mapping[str, Any], asked: Sequence[int] = (), file: TextIO | None = None
) -> None:
    """The report for a person reading a terminal."""
    console = Console(file=file, highlight=False, soft_wrap=True)
    marked = console.no_color or not console.is_terminal
    console.print(
        Text.assemble(
            (shown(report.get("profile", "")), "bold"),
            f" · {report.get('engine', '')} · data check",
        )
    )
    for label, value in data_view.facts(report):
        console.print(Text.assemble(f"  {label:<8} ", (value, "bold" if label == "format" else "")))
    _lengths(console, report)
    _findings(console, report.get("findings") or [])
    _preview(console, report, asked, marked)


def _lengths(console: Console, report: Mapping[str, Any]) -> None:
    offline = data_view.offline_line(report)
    if offline:
        console.print(Text(f"\n{offline}", style="yellow"))
    lengths = report.get("token_lengths")
    if not lengths:
        return
    chart = data_view.histogram_chart(lengths, CHART_WIDTH)
    limit_name = "max_prompt_length" if lengths.get("of") == "prompt" else "max_seq_length"
    console.print(Text.assemble("\n", ("Token lengths", "bold"), f"  ({MARKER_NOTE} {limit_name})"))
    for row in chart.rows:
        console.print(_chart_row(row, chart.marker))
    console.print(Text(f"  {chart.axis}", style="dim"))
    console.print(f"  {data_view.lengths_line(lengths)}")


MARKER_NOTE = f"{data_view.MARKER} marks"


def _chart_row(row: str, marker: int | None) -> Text:
    if marker is None:
        return Text(f"  {row}", style="cyan")
    return Text.assemble(
        "  ", (row[:marker], "cyan"), (row[marker], "bold red"), (row[marker + 1 :], "yellow")
    )


def _findings(console: Console, findings: Sequence[Mapping[str, Any]]) -> None:
    console.print(Text("\nFindings", style="bold"))
    if not findings:
        console.print(Text("  ✓ no findings: nothing here stops or wastes a run", style="green"))
        return
    for item in findings:
        glyph, style = SEVERITY.get(item.get("severity", ""), ("? note   ", ""))
        where = data_view.lines_text(item)
        console.print(
            Text.assemble(
                "  ",
                (glyph, style),
                "  ",
                (shown(item.get("id", "")), "bold"),
                (f"  {where}" if where else "", "dim"),
            )
        )
        console.print(f"             {shown(item.get('detail', ''))}")
        for note in (item.get("line_notes") or [])[:5]:
            console.print(
                Text(f"             line {note['line']}: {shown(note['note'])}", style="dim")
            )
        console.print(Text.assemble("             ", ("fix: ", "cyan"), shown(item.get("fix", ""))))


def _preview(
    console: Console, report: Mapping[str, Any], asked: Sequence[int], marked: bool
) -> None:
    preview = report.get("preview") or []
    if not preview:
        return
    legend = (
        "trained text «between guillemets», masked text bare"
        if marked
        else "trained text green and underlined, masked text dim"
    )
    console.print(Text.assemble("\n", ("Preview", "bold"), f"  ({legend}; as the model reads it)"))
    for item in preview:
        console.print(_row_heading(item, asked))
        console.print(Text.assemble("  ", row_text(item, marked)))


def _row_heading(item: Mapping[str, Any], asked: Sequence[int]) -> Text:
    head = f"line {item.get('line')}"
    if "error" in item:
        return Text(f"{head}: {shown(item['error'])}", style="yellow")
    if "tokens" in item:
        head += f" · {item['tokens']} tokens, {item['trained_tokens']} trained"
    if item.get("line") in asked:
        head += " (asked for)"
    return Text(head, style="bold")


def row_text(item: Mapping[str, Any], marked: bool) -> Text:
    """One previewed row: its segments styled (or «marked»), the cut tail struck out."""
    if "segments" not in item:
        return Text(shown(json.dumps(item.get("row", ""), ensure_ascii=False)))
    text = Text()
    for segment in item["segments"]:
        body = shown(segment["text"])
        if segment["trained"]:
            text.append(f"«{body}»" if marked else body, style=TRAINED_STYLE)
        else:
            text.append(body, style=MASKED_STYLE)
    if item.get("cut_text"):
        text.append(f"\n  ✂ cut at the limit, never seen: {shown(item['cut_text'])}", style="red")
    return text
