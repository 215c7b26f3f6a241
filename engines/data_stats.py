"""Numbers the data check reports: length percentiles, a histogram split at the limit, and
optimizer steps per epoch computed the way transformers' Trainer counts them."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

BINS_BELOW = 16
"""Histogram bins from 0 to the limit; as many of the same width above it, at most."""


def percentile(sorted_values: Sequence[int], fraction: float) -> int:
    """The value below which ``fraction`` of the values lie (nearest rank)."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return int(sorted_values[rank - 1])


def histogram(values: Sequence[int], limit: int) -> list[dict[str, int]]:
    """Bins [{lo, hi, count}] where a value v counts in the bin with lo < v ≤ hi (the first
    bin also holds 0). The limit is always a bin edge, so the bins up to it are exactly the
    rows that fit; above it the bins keep the same width, the last one reaching the maximum."""
    width = max(1, math.ceil(limit / BINS_BELOW))
    edges = [*range(0, limit, width), limit]
    top = max(values, default=0)
    while edges[-1] < top and len(edges) < 2 * BINS_BELOW + 1:
        edges.append(edges[-1] + width)
    if edges[-1] < top:
        edges[-1] = top
    counts = [0] * (len(edges) - 1)
    for value in values:
        counts[_bin(edges, value)] += 1
    return [{"lo": edges[i], "hi": edges[i + 1], "count": counts[i]} for i in range(len(counts))]


def _bin(edges: list[int], value: int) -> int:
    """Index of the bin with edges[i] < value ≤ edges[i + 1] (binary search)."""
    low, high = 0, len(edges) - 2
    while low < high:
        middle = (low + high) // 2
        if value <= edges[middle + 1]:
            high = middle
        else:
            low = middle + 1
    return low


def length_summary(lengths: Sequence[int], limit: int, of: str) -> dict[str, Any]:
    """The `token_lengths` object: percentiles, histogram, rows over the limit, tokens lost."""
    ordered = sorted(lengths)
    over = [n for n in lengths if n > limit]
    return {
        "of": of,
        "limit": limit,
        "p50": percentile(ordered, 0.5),
        "p95": percentile(ordered, 0.95),
        "max": ordered[-1] if ordered else 0,
        "mean": round(sum(ordered) / len(ordered), 1) if ordered else 0,
        "histogram": histogram(lengths, limit),
        "over_limit": len(over),
        "tokens_lost": sum(n - limit for n in over),
    }


def eval_rows(rows: int, fraction: float) -> int:
    """Rows `engines.data.split_eval` holds out."""
    if fraction <= 0 or rows < 2:
        return 0
    return min(rows - 1, max(1, round(rows * fraction)))


def steps_per_epoch(examples: int, batch: int, grad_accum: int, processes: int) -> int:
    """Optimizer steps of one epoch: batches per process, then whole accumulation groups
    (a partial last group still steps), as transformers' Trainer counts them."""
    if examples <= 0:
        return 0
    batches = math.ceil(examples / (batch * processes))
    return max(1, math.ceil(batches / grad_accum))


def packed_sequences(lengths: Sequence[int], limit: int) -> int:
    """Sequences packing makes of rows this long (best fit decreasing, as TRL's "bfd":
    each row, longest first, goes where it leaves the least room; a row over the limit is
    cut to it)."""
    spaces: list[int] = []  # free room of the open sequences, sorted
    count = 0
    for length in sorted((min(n, limit) for n in lengths if n > 0), reverse=True):
        index = bisect.bisect_left(spaces, length)
        if index < len(spaces):
            room = spaces.pop(index) - length
        else:
            count += 1
            room = limit - length
        if room > 0:
            bisect.insort(spaces, room)
    return count
