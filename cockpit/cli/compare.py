"""`cockpit runs --compare A B … [--json]`: runs side by side, as the Runs place's `v` shows
them: each run's last and best loss (eval loss, GRPO reward) and the profile keys that
differ between them. `--json` adds every curve against step and tokens."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from cockpit.runs.compare import Comparison, compare_runs
from cockpit.runs.store import RunStoreError

VALUE_WIDTH = 24


def compare_main(run_ids: Sequence[str], as_json: bool, out: TextIO = sys.stdout) -> int:
    if len(run_ids) < 2:
        print("cockpit runs --compare: give two runs or more", file=sys.stderr)
        return 2
    try:
        comparison = compare_runs(run_ids)
    except RunStoreError as error:
        print(f"cockpit runs --compare: {error}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(comparison.to_json(), indent=2), file=out)
    else:
        print(format_comparison(comparison), file=out)
    return 0


def format_comparison(comparison: Comparison) -> str:
    lines = []
    for index, run in enumerate(comparison.runs, 1):
        facts = [f"{run.status}"]
        for curve in comparison.curves:
            last, best = run.last(curve), run.best(curve)
            if last is not None:
                facts.append(f"{curve} {last:.4f} (best {best:.4f})")
        lines.append(f"[{index}] {run.id}  {'  ·  '.join(facts)}")
    lines.append("")
    if not comparison.differing:
        lines.append("Their profiles are the same.")
        return "\n".join(lines)
    lines.append("Profile keys that differ:")
    width = max(len(key) for key in comparison.differing)
    header = "".join(f"[{i}]".ljust(VALUE_WIDTH) for i in range(1, len(comparison.runs) + 1))
    lines.append(f"  {'':{width}}  {header}".rstrip())
    for key, values in comparison.differing.items():
        cells = "".join(_cell(value).ljust(VALUE_WIDTH) for value in values)
        lines.append(f"  {key:{width}}  {cells}".rstrip())
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) < VALUE_WIDTH - 1 else text[: VALUE_WIDTH - 3] + "…"
