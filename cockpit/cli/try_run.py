"""`cockpit try RUN_ID --prompt TEXT [--compare] [--json]`: ask what a run trained.

The tuned model's answer streams as it is generated; `--compare` then asks the base model
the same (the adapter switched off in the same process). Greedy by default, so the two
answers differ only by what the training changed.
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from cockpit.redact import redact
from cockpit.runs.chat import Answer, ChatEngine, ChatError, Generation
from cockpit.runs.store import RunDir, RunStoreError, find_run, summarize_dir
from cockpit.termsafe import safe


def try_main(
    run_id: str,
    prompt: str,
    *,
    system: str | None = None,
    compare: bool = False,
    as_json: bool = False,
    checkpoint: int | None = None,
    generation: Generation | None = None,
    out: TextIO = sys.stdout,
) -> int:
    generation = generation or Generation()
    run = _run_to_ask(run_id, checkpoint)
    if run is None:
        return 2
    messages = [*([{"role": "system", "content": system}] if system else []),
                {"role": "user", "content": prompt}]  # fmt: skip
    answers: dict[str, Answer] = {}
    try:
        with ChatEngine(run, checkpoint) as engine:
            ready = engine.wait_ready()
            if not as_json:
                print(f"{run.id} · {ready.get('weights')} · {ready.get('device')}", file=out)
            sides = [("tuned", True)]
            if compare:
                if not engine.can_compare:
                    print("cockpit try: a full fine-tune has no adapter to switch off; "
                          "no base to compare", file=sys.stderr)  # fmt: skip
                    return 2
                sides.append(("base", False))
            for side, adapter in sides:
                answers[side] = _answer(engine, messages, generation, adapter, side, as_json, out)
    except ChatError as error:
        print(f"cockpit try: {error}", file=sys.stderr)
        return 1
    if as_json:
        body = {"run": run.id, "weights": ready.get("weights"), "prompt": prompt,
                "system": system, "generation": generation.__dict__,
                "answers": {side: a.to_json() for side, a in answers.items()}}  # fmt: skip
        print(json.dumps(body, indent=2, ensure_ascii=False), file=out)
    return 0


def _run_to_ask(run_id: str, checkpoint: int | None) -> RunDir | None:
    """The run named, unless it is unknown or still training without a checkpoint asked
    for (then None, said)."""
    try:
        run = find_run(run_id)
    except RunStoreError as error:
        print(f"cockpit try: {error}", file=sys.stderr)
        return None
    if summarize_dir(run).active and checkpoint is None:
        print(f"cockpit try: {run.id} is still training; try a checkpoint of it with "
              "--checkpoint N, or wait for its end", file=sys.stderr)  # fmt: skip
        return None
    return run


def _answer(
    engine: ChatEngine,
    messages: list[dict[str, str]],
    generation: Generation,
    adapter: bool,
    side: str,
    as_json: bool,
    out: TextIO,
) -> Answer:
    if not as_json:
        print(f"\n{side}:", file=out, flush=True)
    for piece in engine.ask(messages, generation, adapter=adapter):
        if isinstance(piece, Answer):
            if not as_json:
                speed = f"{piece.tokens_per_s:.1f} tokens/s" if piece.tokens_per_s else "—"
                print(f"\n  ({piece.tokens} tokens, {speed})", file=out)
            return piece
        if not as_json:
            out.write(piece)
            out.flush()
    raise ChatError("the engine ended the answer without its end")


def sample_main(
    run_id: str,
    count: int,
    *,
    as_json: bool = False,
    checkpoint: int | None = None,
    generation: Generation | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Ask `count` held-out rows of the run's data: the tuned answer, the base's (when
    there is an adapter to switch off) and the reference answer of the data."""
    generation = generation or Generation()
    run = _run_to_ask(run_id, checkpoint)
    if run is None:
        return 2
    results = []
    try:
        with ChatEngine(run, checkpoint) as engine:
            found = engine.eval_rows(count)
            sides = [("tuned", True)] + ([("base", False)] if engine.can_compare else [])
            if not as_json:
                held = (
                    "held out (its eval split)"
                    if found["split"] == "eval"
                    else ("it trained on (it held none out: set [data] eval_fraction)")
                )
                print(f"{run.id}: {len(found['rows'])} rows {held} of {found['source']}",
                      file=out)  # fmt: skip
            for row in found["rows"]:
                answers = {side: engine.answer(row["messages"], generation, adapter=adapter)
                           for side, adapter in sides}  # fmt: skip
                results.append({**row, "answers": {k: a.to_json() for k, a in answers.items()}})
                if not as_json:
                    _print_row(row, answers, out)
    except ChatError as error:
        print(f"cockpit try: {error}", file=sys.stderr)
        return 1
    if as_json:
        body = {"run": run.id, "split": found["split"], "source": found["source"],
                "generation": generation.__dict__, "samples": results}  # fmt: skip
        print(json.dumps(body, indent=2, ensure_ascii=False), file=out)
    return 0


def _print_row(row: dict, answers: dict[str, Answer], out: TextIO) -> None:
    asked = row["messages"][-1]["content"] if row["messages"] else ""
    print(f"\nasked:     {safe(redact(asked))}", file=out)
    print(f"reference: {safe(redact(row['reference']))}", file=out)
    for side, answer in answers.items():
        print(f"{side + ':':<10} {safe(redact(answer.text.strip()))}", file=out)
