"""Concrete profile edits that make a tight or failing profile fit, cheapest first.

Each suggestion is one edit the user can apply (dotted keys -> values), with the estimate
it leads to, ranked by what it costs the run rather than by memory alone: batch -> 1
keeping the effective batch, checkpointing, 4-bit, an 8-bit optimizer, a lower LoRA rank
(alpha halved with it, so alpha/r and the update's scale stay); then all of those together
when no single one is enough; then the largest batch that fits; and last the longest
sequence that fits, because it cuts the data: with the Data check's token lengths (its
JSON `token_lengths`, when the caller has a cached report) it says how many rows it
truncates and whether it goes below the data's p95.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cockpit.vram.analytic import Estimate, Suggestion, estimate_plan, planned_gpu
from cockpit.vram.plan import Stack, make_plan
from engines.profile_schema import LoraSection, Profile

_MIN_GAIN = 0.01
"""A suggestion must lower the total by at least this share to be worth showing."""
_SEQ_STEP = 64

Edit = tuple[str, dict[str, Any]]
"""(what changes, for people; dotted key -> new value)."""


def apply_edits(profile: Profile, edits: dict[str, Any]) -> Profile:
    """`profile` with dotted-key edits applied ("train.batch_size": 1, "lora": {...})."""
    for key, value in edits.items():
        section, _, field = key.partition(".")
        if not field:
            new = LoraSection(**value) if section == "lora" and value is not None else value
            profile = dataclasses.replace(profile, **{section: new})
            continue
        table = getattr(profile, section)
        profile = dataclasses.replace(
            profile, **{section: dataclasses.replace(table, **{field: value})}
        )
    return profile


def _batch_one(profile: Profile) -> Iterator[Edit]:
    train = profile.train
    if train.batch_size > 1:
        accum = train.batch_size * train.grad_accum
        yield (
            f"batch_size {train.batch_size} → 1, grad_accum {train.grad_accum} → {accum} "
            "(same effective batch)",
            {"train.batch_size": 1, "train.grad_accum": accum},
        )


def _checkpointing(profile: Profile) -> Iterator[Edit]:
    now = profile.train.gradient_checkpointing
    unsloth_ok = profile.model.backend in ("auto", "unsloth")
    if now == "off":
        yield "gradient_checkpointing off → on", {"train.gradient_checkpointing": "on"}
    if now != "unsloth" and unsloth_ok:
        yield (
            f"gradient_checkpointing {now} → unsloth (offloads to host RAM; needs Unsloth)",
            {"train.gradient_checkpointing": "unsloth"},
        )


def _quantize(profile: Profile) -> Iterator[Edit]:
    quant = profile.model.quantization
    if profile.lora is None:
        yield (
            "LoRA r 16 on a 4-bit model (QLoRA) instead of a full fine-tune",
            {"model.quantization": "4bit", "lora": {"r": 16, "alpha": 16}},
        )
    elif quant != "4bit":
        yield f"quantization {quant} → 4bit (QLoRA)", {"model.quantization": "4bit"}


def _optimizer(profile: Profile) -> Iterator[Edit]:
    better = {"adamw": "adamw_8bit", "paged_adamw": "paged_adamw_8bit"}
    now = profile.train.optimizer
    if now in better:
        yield f"optimizer {now} → {better[now]}", {"train.optimizer": better[now]}


def _rank(profile: Profile) -> Iterator[Edit]:
    """Half the rank with half the alpha: alpha/r (the LoRA update's scale) is unchanged."""
    lora = profile.lora
    if lora is None or lora.r <= 8:
        return
    r = lora.r // 2
    if lora.alpha % 2 == 0 and lora.r % 2 == 0:
        alpha = lora.alpha // 2
        kept = f"alpha/r stays {lora.alpha / lora.r:g}"
        yield (
            f"LoRA r {lora.r} → {r}, alpha {lora.alpha} → {alpha} ({kept})",
            {
                "lora.r": r,
                "lora.alpha": alpha,
            },
        )
        return
    scale = f"alpha/r changes {lora.alpha / lora.r:.3g} → {lora.alpha / r:.3g}"
    yield f"LoRA r {lora.r} → {r} ({scale}: the update's scale)", {"lora.r": r}


STEPS: tuple[Callable[[Profile], Iterator[Edit]], ...] = (
    _batch_one,
    _checkpointing,
    _quantize,
    _optimizer,
    _rank,
)
"""Suggestion makers, cheapest first (none of them changes what the model reads)."""
TINY_SEQ = 256
"""A max_seq_length below this cuts nearly every real row: such a cut says so."""


class _Evaluator:
    """Estimates edited profiles against the same model and card."""

    def __init__(
        self, profile: Profile, current: Estimate, gpu_gib: float | None, stack: Stack
    ) -> None:
        self.profile, self.current, self.stack = profile, current, stack
        self.card = planned_gpu(profile, gpu_gib)

    def run(self, edits: dict[str, Any]) -> Estimate:
        edited = apply_edits(self.profile, edits)
        plan = make_plan(edited, self.current.model.spec, self.stack)
        return estimate_plan(plan, self.current.model, self.card)

    def suggestion(self, change: str, edits: dict[str, Any]) -> Suggestion | None:
        result = self.run(edits)
        if result.total_gib > (1 - _MIN_GAIN) * self.current.total_gib:
            return None
        return Suggestion(change, edits, result.total_gib, result.verdict)


def suggestions(
    profile: Profile,
    current: Estimate,
    gpu_gib: float | None,
    stack: Stack,
    lengths: Mapping[str, Any] | None = None,
) -> list[Suggestion]:
    """Edits that lower the estimate, cheapest first, then the largest batch that fits, and
    last the longest sequence that fits (`lengths`: the Data check's `token_lengths`, or
    None when no check was made: then p95 is unknown)."""
    judge = _Evaluator(profile, current, gpu_gib, stack)
    per_step = [list(step(profile)) for step in STEPS]
    singles = [edit for edits in per_step for edit in edits]
    found = [s for s in (judge.suggestion(c, e) for c, e in singles) if s is not None]
    if singles and not any(s.verdict == "fits" for s in found):
        # the strongest edit of each kind (checkpointing: unsloth over on), in order
        combined = _combined(judge, [edits[-1] for edits in per_step if edits])
        if combined is not None:
            found.append(combined)
    for extra in (_largest_batch(judge), _longest_sequence(judge, lengths)):
        if extra is not None:
            found.append(extra)
    return found


def _combined(judge: _Evaluator, singles: list[Edit]) -> Suggestion | None:
    """The singles applied together, in order, until the profile fits."""
    edits: dict[str, Any] = {}
    changes: list[str] = []
    for change, edit in singles:
        edits |= edit
        changes.append(change)
        if judge.run(edits).verdict == "fits":
            break
    return judge.suggestion("; ".join(changes), dict(edits)) if len(changes) > 1 else None


def _largest_fitting(
    judge: _Evaluator, low: int, high: int, edits_for: Callable[[int], dict[str, Any]]
) -> int | None:
    """The largest value in [low, high] whose estimate fits, searching "fits" then "tight"."""
    for accepted in (("fits",), ("fits", "tight")):
        if judge.run(edits_for(low)).verdict not in accepted:
            continue
        while low < high:
            middle = (low + high + 1) // 2
            if judge.run(edits_for(middle)).verdict in accepted:
                low = middle
            else:
                high = middle - 1
        return low
    return None


def _longest_sequence(judge: _Evaluator, lengths: Mapping[str, Any] | None) -> Suggestion | None:
    profile = judge.profile
    grpo = profile.engine == "grpo" and profile.grpo is not None
    key = "grpo.max_completion_length" if grpo else "model.max_seq_length"
    now = (
        profile.grpo.max_completion_length
        if grpo and profile.grpo
        else profile.model.max_seq_length
    )
    if now <= _SEQ_STEP:
        return None
    steps = _largest_fitting(judge, 1, (now - 1) // _SEQ_STEP, lambda n: {key: n * _SEQ_STEP})
    if steps is None:
        return None
    best = steps * _SEQ_STEP
    name = key.rsplit(".", 1)[-1]
    cost = "" if grpo else cut_cost(best, lengths)
    return judge.suggestion(f"{name} {now} → {best} (the longest that fits{cost})", {key: best})


def cut_cost(seq: int, lengths: Mapping[str, Any] | None) -> str:
    """What cutting sequences to `seq` tokens does to the data, for the suggestion's text:
    "; truncates 412 of 5,000 rows, below the data's p95 (1,530 tokens)"."""
    words = []
    rows = truncated_rows(seq, lengths)
    if rows is not None:
        low, high, total = rows
        cut = f"{low:,}" if low == high else f"{low:,}–{high:,}"
        words.append(f"truncates {cut} of {total:,} rows")
    p95 = (lengths or {}).get("p95")
    if isinstance(p95, int | float) and seq < p95:
        words.append(f"below the data's p95 ({p95:,.0f} tokens)")
    if seq < TINY_SEQ:
        words.append("too short for most real rows")
    if lengths is None:
        words.append("rows it truncates unknown: run the Data check")
    return "".join(f"; {w}" for w in words)


def truncated_rows(seq: int, lengths: Mapping[str, Any] | None) -> tuple[int, int, int] | None:
    """(rows surely longer than `seq`, rows maybe longer, all rows) from the Data check's
    histogram (bins lo < tokens <= hi: a bin `seq` falls inside may or may not be cut), or
    None without one."""
    bins = (lengths or {}).get("histogram")
    if not isinstance(bins, list) or not bins:
        return None
    try:
        total = sum(int(b["count"]) for b in bins)
        surely = sum(int(b["count"]) for b in bins if float(b["lo"]) >= seq)
        maybe = sum(int(b["count"]) for b in bins if float(b["hi"]) > seq)
    except (KeyError, TypeError, ValueError):
        return None
    return surely, maybe, total


def _largest_batch(judge: _Evaluator) -> Suggestion | None:
    train = judge.profile.train
    if train.batch_size <= 1:
        return None
    effective = train.batch_size * train.grad_accum

    def edits(batch: int) -> dict[str, Any]:
        return {"train.batch_size": batch, "train.grad_accum": math.ceil(effective / batch)}

    best = _largest_fitting(judge, 1, train.batch_size - 1, edits)
    if best is None or best == 1:
        return None  # batch 1 is already the first suggestion
    change = (
        f"batch_size {train.batch_size} → {best}, grad_accum {train.grad_accum} → "
        f"{edits(best)['train.grad_accum']} (the largest batch that fits)"
    )
    return judge.suggestion(change, edits(best))
