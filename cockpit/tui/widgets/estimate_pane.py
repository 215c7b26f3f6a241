"""The estimate beside the profile form: verdict, stacked bar, terms, totals, suggestions.

It shows an `Assessment` (cockpit.profiles.plan): the estimate of the profile as
it stands in the form, or why there is none (invalid values, an unknown model) in the
words of the validator or the estimator. Suggestions are a list; the screen applies the
highlighted one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.tui.widgets.profile_list import badge, verdict_style
from cockpit.tui.widgets.vram_bar import VramBar, term_colours

if TYPE_CHECKING:
    from cockpit.profiles.plan import Assessment
    from cockpit.vram.analytic import Estimate, Suggestion


def verdict_badge(verdict: str) -> Content:
    """``▐TIGHT▌`` in the verdict's colour, reversed so it stands out."""
    return badge(verdict.upper(), verdict_style(verdict))


def headline(assessment: Assessment) -> Content:
    """The verdict with the total against the usable memory."""
    result = assessment.estimate
    if result is None:
        return verdict_badge(assessment.verdict)
    if result.usable_gib is None:
        summary = f"  {result.total_gib:.2f} GiB, no card to compare with"
    else:
        share = result.total_gib / result.usable_gib if result.usable_gib else float("inf")
        summary = (
            f"  {result.total_gib:.2f} of {result.usable_gib:.2f} GiB usable ({share:.0%})"
            f" · band {result.low_gib:.2f}–{result.high_gib:.2f}"
        )
    return Content.assemble(verdict_badge(result.verdict), (summary, "bold"))


def size(gib: float) -> str:
    """``1.52 GiB`` or, below 0.1 GiB, ``  37 MiB`` (always 8 cells)."""
    return f"{gib * 1024:4.0f} MiB" if gib < 0.1 else f"{gib:4.2f} GiB"


def legend(result: Estimate) -> Content:
    """One line per term that takes memory: colour, GiB, what it is."""
    colours = term_colours([t.name for t in result.terms])
    lines = [
        Content.assemble(("■ ", colours[t.name]), (f"{size(t.gib)}  ", "bold"), t.label)
        for t in result.terms
        if t.bytes > 0
    ]
    return Content("\n").join(lines)


def totals(result: Estimate) -> Content:
    """The three totals people compare with what their tools print, and the calibration."""
    rows = (
        ("peak allocated", result.peak_allocated_gib, "max_memory_allocated"),
        ("peak reserved", result.peak_reserved_gib, "+ allocator cache"),
        ("total", result.total_gib, "+ CUDA context = nvidia-smi"),
    )
    lines = [
        Content.assemble(f"{name:<15}", (f"{gib:5.2f} GiB ", "bold"), (why, "$text-muted"))
        for name, gib, why in rows
    ]
    if result.calibration is not None:  # "calibrated on 3 of your runs, residual 4 %: ×1.12…"
        lines.append(Content.styled(result.calibration.text(), "$accent"))
    return Content("\n").join(lines)


def about(result: Estimate) -> Content:
    """Where the model's numbers came from, the trainable count and the estimator's notes."""
    trainable = result.trainable_params
    if trainable < 1e6:
        count = f"{trainable / 1e3:.1f} k"
    else:
        count = f"{trainable / 1e6:.1f} M" if trainable < 1e9 else f"{trainable / 1e9:.2f} B"
    lines = [
        Content.styled(
            f"{result.model.spec.name} · {count} trainable · {result.tokens} tokens per step"
            f" · {result.model.source}",
            "$text-muted",
        )
    ]
    lines += [Content.styled(f"note: {note}", "$warning") for note in result.notes]
    return Content("\n").join(lines)


def suggestion_prompt(suggestion: Suggestion) -> Content:
    style = verdict_style(suggestion.verdict)
    return Content.assemble(
        suggestion.change,
        "\n  → ",
        (f"{suggestion.total_gib:.2f} GiB {suggestion.verdict}", f"bold {style}"),
    )


class EstimatePane(Vertical):
    """Shows one assessment; ``selected_suggestion`` is the highlighted suggestion.

    The verdict stays at the top; what is under it scrolls (a narrow terminal, or the
    suggestions list taking the focus).
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.suggestions: tuple[Suggestion, ...] = ()
        self._shown: dict[str, Content] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="estimate-verdict")
        yield Static(id="estimate-card")
        with VerticalScroll(id="estimate-body"):
            yield Static(id="estimate-message")
            yield VramBar(id="estimate-bar")
            yield Static(id="estimate-legend")
            yield Static(id="estimate-totals")
            yield Static(id="estimate-about")
            yield Static(
                Content.assemble(
                    ("Suggestions", "bold"), (" · ctrl+f applies the highlighted one", "dim")
                ),
                id="estimate-suggestions-title",
            )
            yield OptionList(id="estimate-suggestions")

    def on_mount(self) -> None:
        self.border_title = "Estimate"

    def show(self, assessment: Assessment | None) -> None:
        """Show an assessment; None clears the pane."""
        self.set_class(assessment is None, "-empty")
        if assessment is None:
            return
        result = assessment.estimate
        self.set_class(result is None, "-no-estimate")
        self._update("#estimate-verdict", headline(assessment))
        card = assessment.card
        where = f"on {card.label}" if card.gib is not None else card.label
        self._update("#estimate-card", Content.styled(where, "$text-muted"))
        self._update("#estimate-message", Content(assessment.message))
        if result is not None:
            colours = term_colours([t.name for t in result.terms])
            segments = [(t.name, t.gib, colours[t.name]) for t in result.terms if t.bytes > 0]
            self.query_one(VramBar).show(segments, result.usable_gib)
            self._update("#estimate-legend", legend(result))
            self._update("#estimate-totals", totals(result))
            self._update("#estimate-about", about(result))
        suggestions = () if result is None else result.suggestions
        self.set_class(not suggestions, "-no-suggestions")
        if suggestions != self.suggestions:
            self._show_suggestions(suggestions)

    def _update(self, selector: str, content: Content) -> None:
        """Update a line only when it changes: each update re-lays out the pane."""
        shown = self._shown.get(selector)
        if shown is None or (shown.plain, shown.spans) != (content.plain, content.spans):
            self._shown[selector] = content
            self.query_one(selector, Static).update(content)

    def _show_suggestions(self, suggestions: tuple[Suggestion, ...]) -> None:
        options = self.query_one("#estimate-suggestions", OptionList)
        highlighted = options.highlighted
        self.suggestions = suggestions
        options.set_options(
            Option(suggestion_prompt(s), id=str(i)) for i, s in enumerate(suggestions)
        )
        if suggestions:
            keep = highlighted if highlighted is not None else 0
            options.highlighted = min(keep, len(suggestions) - 1)

    @property
    def selected_suggestion(self) -> Suggestion | None:
        index = self.query_one("#estimate-suggestions", OptionList).highlighted
        if index is None or index >= len(self.suggestions):
            return None
        return self.suggestions[index]
