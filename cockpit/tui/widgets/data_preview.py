"""Rows as the model reads them: the template applied, trained text apart from masked.

Trained text is underlined in the success colour, masked text muted; the underline stays
under NO_COLOR, and there the trained text is also put «between guillemets», so the two
are told apart on any terminal. Text cut at the limit is shown after a ✂.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from textual.content import Content
from textual.widgets import Static

from cockpit.runs.data_view import shown

TRAINED = "underline $success"
MASKED = "$text-muted"


def legend(marked: bool) -> Content:
    """How trained and masked text look here."""
    trained = "«trained»" if marked else "trained"
    return Content.assemble(
        ("Preview", "bold"),
        "  as the model reads it: ",
        (trained, TRAINED),
        " · ",
        ("masked (no loss)", MASKED),
    )


def row_content(item: Mapping[str, Any], marked: bool) -> Content:
    """One row's text: its segments styled, the cut tail after ✂."""
    if "segments" not in item:
        return Content(shown(json.dumps(item.get("row", ""), ensure_ascii=False)))
    parts: list[Content] = []
    for segment in item["segments"]:
        text = shown(segment["text"])
        if segment["trained"]:
            parts.append(Content.styled(f"«{text}»" if marked else text, TRAINED))
        else:
            parts.append(Content.styled(text, MASKED))
    if item.get("cut_text"):
        cut = shown(item["cut_text"])
        parts.append(Content.styled(f"\n✂ cut at the limit, never seen: {cut}", "$error"))
    return Content.assemble(*parts)


def row_heading(item: Mapping[str, Any], asked: int | None) -> Content:
    head = f"line {item.get('line')}"
    if "error" in item:
        return Content.styled(f"{head}: {shown(item['error'])}", "$warning")
    if "tokens" in item:
        head += f" · {item['tokens']} tokens, {item['trained_tokens']} trained"
    style = "bold reverse" if item.get("line") == asked else "bold"
    return Content.styled(head + ("  ◂ asked for" if item.get("line") == asked else ""), style)


class DataPreview(Static):
    """The previewed rows, the asked-for row first."""

    def show(self, items: Sequence[Mapping[str, Any]], asked: int | None, marked: bool) -> None:
        """Show these rows; `asked` (a file line) goes first and is highlighted."""
        ordered = sorted(items, key=lambda i: (i.get("line") != asked, i.get("line") or 0))
        blocks = [legend(marked)]
        for item in ordered:
            body = [] if "error" in item else ["\n", row_content(item, marked)]
            blocks.append(Content.assemble(row_heading(item, asked), *body))
        self.display = bool(items)
        self.update(Content("\n").join(blocks))
