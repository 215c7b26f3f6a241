"""Chat speed: tokens/s and time to first token of a trained tiny run through the chat
engine (`python -m engines chat`, as `cockpit try` and the chat pane see it: request out,
text streamed back over the pipe) against `model.generate` called directly on the same
loaded model in a process of its own, measured in the same test. Goal: tokens/s ratio
>= 0.9.

Both processes are loaded once and kept warm; the rounds alternate (the machine may be
shared), one thread each; medians of the rounds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import pytest

from cockpit.runs.chat import Answer, ChatEngine, Generation
from cockpit.runs.store import RunDir
from tests.engines.helpers import ROOT, engine_env, make_run_dir, run_engine

NEW_TOKENS = 128
ROUNDS = 5
PROMPT = [{"role": "user", "content": "What does LoRA stand for?"}]
pytestmark = pytest.mark.wallclock

_DIRECT = """
import json, sys, time
import torch
from engines.chat import encode, load

loaded = load(__import__("pathlib").Path(sys.argv[1]))
inputs = encode(loaded, json.loads(sys.argv[2])).to(loaded.model.device)
prompt = inputs["input_ids"].shape[-1]
pad = loaded.tokenizer.pad_token_id

def timed(tokens):
    start = time.perf_counter()
    with torch.inference_mode():
        out = loaded.model.generate(**inputs, max_new_tokens=tokens, do_sample=False,
                                    pad_token_id=pad, temperature=None, top_p=None, top_k=None)
    return out.shape[-1] - prompt, time.perf_counter() - start

print("ready", flush=True)
for line in sys.stdin:
    new, seconds = timed(int(line))
    first = timed(1)[1]
    print(json.dumps({"tokens": int(new), "seconds": seconds, "first": first}), flush=True)
"""


def _engine_round(engine: ChatEngine) -> tuple[float, float]:
    """(tokens/s, seconds to the first text) as the client sees them."""
    start = time.perf_counter()
    first = None
    for piece in engine.ask(PROMPT, Generation(NEW_TOKENS)):
        if first is None:
            first = time.perf_counter() - start
        if isinstance(piece, Answer):
            return piece.tokens / (time.perf_counter() - start), first
    raise AssertionError("no answer")


def _direct_round(proc: subprocess.Popen) -> tuple[float, float]:
    proc.stdin.write(f"{NEW_TOKENS}\n")
    proc.stdin.flush()
    got = json.loads(proc.stdout.readline())
    return got["tokens"] / got["seconds"], got["first"]


def test_chat_tokens_per_second_against_generate_called_directly(tmp_path, monkeypatch, report):
    cache = tmp_path / "cache"
    env = engine_env(cache)
    train = {"max_steps": 5, "save_steps": 0}
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", "chat-bench", train=train)
    assert run_engine(run_dir, env).returncode == 0
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    direct = subprocess.Popen(
        [sys.executable, "-c", _DIRECT, str(run_dir), json.dumps(PROMPT)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert direct.stdout.readline().strip() == "ready"
        with ChatEngine(RunDir(run_dir)) as engine:
            engine.wait_ready()
            ours, theirs = [], []
            for _ in range(ROUNDS):
                ours.append(_engine_round(engine))
                theirs.append(_direct_round(direct))
    finally:
        direct.stdin.close()
        direct.wait(30)
    rate = statistics.median(r for r, _ in ours)
    baseline = statistics.median(r for r, _ in theirs)
    report(
        f"chat tokens/s, tiny model on CPU, {NEW_TOKENS} new tokens (median of {ROUNDS})",
        rate,
        baseline,
        "tokens/s",
        ">= 0.9 × model.generate called directly",
    )
    report(
        "chat time to first text (median)",
        statistics.median(f for _, f in ours),
        statistics.median(f for _, f in theirs),
        "s",
        "baseline: model.generate for one token, called directly",
    )
    assert rate > 0.3 * baseline, f"chat {rate:.1f} tokens/s against {baseline:.1f} directly"
