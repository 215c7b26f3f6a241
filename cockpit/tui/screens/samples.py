"""GRPO's samples (`g` on a GRPO run in Runs): what the model generated at each logged step
and how each reward scored it — the prompt, its completions with every reward function's
score, the total and the advantage within the group, newest step first.

The texts are the model's own and may hold anything: they are redacted and made safe for
the terminal before they are shown. It follows the run while it trains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from cockpit.redact import redact
from cockpit.runs.samples import NO_SIGNAL_FIX
from cockpit.termsafe import safe

REFRESH_S = 1.0


class SamplesScreen(Screen[None]):
    """The newest samples events of one run, followed while it trains."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(
        self, run_id: str, read: Callable[[], tuple[Sequence[Mapping[str, Any]], str | None]]
    ) -> None:
        super().__init__()
        self.run_id = run_id
        self._read = read
        """Returns (samples events oldest first, the no-signal warning or None)."""
        self._shown: tuple[int, str | None] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="samples-body"):
            yield Static(id="samples-signal")
            yield Static(id="samples-steps")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#samples-body").border_title = f"Samples · {self.run_id}"
        self._refresh()
        self.set_interval(REFRESH_S, self._refresh, name="samples")

    def _refresh(self) -> None:
        events, warning = self._read()
        seen = (len(events) and int(events[-1].get("step") or 0), warning)
        if seen == self._shown:
            return
        self._shown = seen
        signal = self.query_one("#samples-signal", Static)
        signal.display = bool(warning)
        fix = f"\n{NO_SIGNAL_FIX}\n"
        signal.update(Content.styled(f"▲ {warning}{fix}", "$warning") if warning else "")
        if not events:
            body = Content.styled(
                "No samples yet: GRPO writes them after each step.", "$text-muted"
            )
        else:
            body = Content("\n\n").join(step_content(e) for e in reversed(events))
        self.query_one("#samples-steps", Static).update(body)


def step_content(event: Mapping[str, Any]) -> Content:
    """One logged step: each group's prompt, then its completions with their scores."""
    parts: list[Content] = [Content.styled(f"step {event.get('step', '?')}", "bold $accent")]
    for group in event.get("groups") or []:
        if not isinstance(group, Mapping):
            continue
        spread = group.get("total_std")
        flat = " · every completion scored the same" if spread == 0 else ""
        parts.append(Content.assemble(
            ("prompt  ", "bold"), _text(group.get("prompt")),
            (f"   ({group.get('size', '?')} completions{flat})", "$text-muted"),
        ))  # fmt: skip
        for row in group.get("completions") or []:
            if isinstance(row, Mapping):
                parts.append(_completion(row))
    return Content("\n").join(parts)


def _completion(row: Mapping[str, Any]) -> Content:
    rewards = row.get("rewards") if isinstance(row.get("rewards"), Mapping) else {}
    scores = "  ".join(f"{name} {_number(score)}" for name, score in rewards.items())
    return Content.assemble(
        ("  › ", "$text-muted"), _text(row.get("text")), "\n    ",
        (f"total {_number(row.get('total'))}  advantage {_number(row.get('advantage'))}",
         "bold"),
        (f"  ·  {scores}", "$text-muted"),
    )  # fmt: skip


def _text(value: Any) -> str:
    text = safe(redact(str(value or ""))).replace("\n", " ⏎ ")
    return text or "(empty)"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:+.3f}" if value < 0 else f"{value:.3f}"
