"""`python -m engines chat RUN_DIR [--checkpoint N]`: talk to what a run trained.

The run's base model is loaded as it was trained (its frozen profile.toml: quantization,
precision, device, attention), its adapter put on (the final `adapter/`, or
`checkpoints/checkpoint-N`), and the process answers requests on stdin with the text on
stdout as it is generated: the line protocol documented in engines.protocol (CHAT_*). It
stays loaded between requests; EOF or a `quit` ends it. The base model answers the same
request with `"adapter": false`, in the same process (PEFT's `disable_adapter`: no second
copy of the weights). A full fine-tune has no adapter to switch off: its `ready` says
`can_compare: false`.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from engines import modeling
from engines.profile_schema import Profile, read_profile
from engines.protocol import ADAPTER_DIR, CHECKPOINTS_DIR, PROFILE_FILE

DEFAULT_MAX_NEW_TOKENS = 256
FLUSH_S = 0.03
"""Text is sent at most this often (30 ms: faster than the eye follows)."""


class ChatError(Exception):
    """The run cannot be chatted with (no adapter yet, a bad checkpoint, a bad request)."""


def say(level: str, text: str) -> None:
    """Loading notes go to stderr (the client keeps them in the run's chat.log)."""
    print(f"{level}: {text}", file=sys.stderr, flush=True)


class Replies:
    """The protocol's stdout. Anything else a library prints goes to stderr instead."""

    def __init__(self) -> None:
        self._out: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        self._lock = threading.Lock()

    def send(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"kind": kind, **fields}, ensure_ascii=False)
        with self._lock, contextlib.suppress(BrokenPipeError, ValueError):
            self._out.write(line + "\n")
            self._out.flush()


def weights_folder(run_dir: Path, checkpoint: int | None = None) -> Path:
    """The adapter (or, for a full fine-tune, the model) to load: `checkpoint-N` when
    asked, else the final adapter, else the newest checkpoint."""
    checkpoints = run_dir / CHECKPOINTS_DIR
    if checkpoint is not None:
        folder = checkpoints / f"checkpoint-{checkpoint}"
        if not folder.is_dir():
            saved = sorted(p.name for p in checkpoints.glob("checkpoint-*"))
            listed = ", ".join(saved) or "none"
            raise ChatError(f"no checkpoint-{checkpoint} in {checkpoints} (saved: {listed})")
        return folder
    if (run_dir / ADAPTER_DIR).is_dir():
        return run_dir / ADAPTER_DIR
    newest = max(checkpoints.glob("checkpoint-*"), key=_step, default=None)
    if newest is None:
        raise ChatError(
            f"{run_dir.name} has no adapter and no checkpoint yet: nothing trained to talk to"
        )
    return newest


def _step(folder: Path) -> int:
    try:
        return int(folder.name.rsplit("-", 1)[-1])
    except ValueError:
        return -1


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    settings: Profile
    weights: Path
    device: str
    peft: bool
    """True when the adapter can be switched off (the base is one switch away)."""

    @property
    def template(self) -> str:
        return "chat" if getattr(self.tokenizer, "chat_template", None) else "plain"

    @property
    def max_positions(self) -> int | None:
        value = getattr(self.model.config, "max_position_embeddings", None)
        return int(value) if isinstance(value, int) else None


def load(run_dir: Path, checkpoint: int | None = None) -> Loaded:
    """The run's model as trained, with its adapter, ready to generate."""
    profile = run_dir / PROFILE_FILE
    if not profile.is_file():
        raise ChatError(f"no {PROFILE_FILE} in {run_dir}: not a run directory")
    settings = read_profile(profile)
    weights = weights_folder(run_dir, checkpoint)
    runtime = modeling.detect_runtime(say)
    precision = modeling.choose_precision(settings.model.dtype, runtime, say)
    base = modeling.model_path(settings.model.name_or_path)
    has_tokenizer = (weights / "tokenizer_config.json").is_file()
    tokenizer = modeling.load_tokenizer(str(weights) if has_tokenizer else base, say)
    full = settings.lora is None or not (weights / "adapter_config.json").is_file()
    model = modeling.load_model(settings, str(weights) if full else base, runtime, precision, say)
    modeling.resize_for_tokenizer(model, tokenizer)
    if not full:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(weights))
    if getattr(model, "hf_device_map", None) is None:  # quantized models are placed already
        model = model.to(runtime.device)
    model.eval()
    return Loaded(model, tokenizer, settings, weights, runtime.device, peft=not full)


def encode(loaded: Loaded, messages: list[dict[str, str]]) -> Any:
    """The conversation as the model saw its training rows: through the tokenizer's chat
    template, or (a model trained on plain text) the turns' texts one per line."""
    tokenizer = loaded.tokenizer
    if loaded.template == "chat":
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return tokenizer(text, return_tensors="pt", add_special_tokens=False)
    return tokenizer("\n".join(m["content"] for m in messages), return_tensors="pt")


def _stream_class() -> type:
    from transformers import TextStreamer

    class Stream(TextStreamer):
        """Sends whole words as they are generated; notes when the first token came."""

        def __init__(self, tokenizer: Any, emit: Any) -> None:
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.emit = emit
            self.first_at: float | None = None
            self._prompt_seen = False
            self._pending = ""
            self._sent_at = 0.0

        def put(self, value: Any) -> None:
            if self._prompt_seen and self.first_at is None:
                self.first_at = time.perf_counter()
            self._prompt_seen = True
            super().put(value)

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            """Sent at once when the last send is FLUSH_S old (the first piece always),
            else gathered: a fast model's text goes out in a few pieces a second instead of
            one per word, each a write, a wake-up and a parse on the client's side."""
            self._pending += text
            now = time.perf_counter()
            if self._pending and (stream_end or now - self._sent_at >= FLUSH_S):
                self.emit(self._pending)
                self._pending, self._sent_at = "", now

    return Stream


def _stop_class() -> type:
    from transformers import StoppingCriteria

    class StopWhenAsked(StoppingCriteria):
        def __init__(self, asked: Any) -> None:
            self.asked = asked

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return bool(self.asked())

    return StopWhenAsked


def generate(loaded: Loaded, request: dict[str, Any], replies: Replies, stopped: set) -> None:
    """Answer one `generate` request: tokens as they come, then its `end`."""
    import torch
    from transformers import StoppingCriteriaList

    rid = request.get("id")
    messages = _messages(request.get("messages"))
    inputs = encode(loaded, messages).to(loaded.model.device)
    prompt_tokens = int(inputs["input_ids"].shape[-1])
    wanted = int(request.get("max_new_tokens") or DEFAULT_MAX_NEW_TOKENS)
    limit = loaded.max_positions
    if limit is not None and prompt_tokens >= limit:
        raise ChatError(
            f"the conversation is {prompt_tokens} tokens and the model reads at most {limit}: "
            "start a new chat"
        )
    new_tokens = max(1, min(wanted, limit - prompt_tokens) if limit else wanted)
    emit = lambda text: replies.send("token", id=rid, text=text)  # noqa: E731
    stream = _stream_class()(loaded.tokenizer, emit)
    options: dict[str, Any] = {
        "max_new_tokens": new_tokens,
        "streamer": stream,
        "stopping_criteria": StoppingCriteriaList([_stop_class()(lambda: rid in stopped)]),
        "pad_token_id": loaded.tokenizer.pad_token_id,
    }
    temperature = float(request.get("temperature") or 0.0)
    if temperature > 0:
        top_p = float(request.get("top_p") or 1.0)
        options.update(do_sample=True, temperature=temperature, top_p=top_p)
        if request.get("seed") is not None:
            torch.manual_seed(int(request["seed"]))
    else:
        options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    adapter = bool(request.get("adapter", True))
    if not adapter and not loaded.peft:
        raise ChatError("a full fine-tune has no adapter to switch off: no base to compare")
    switch = contextlib.nullcontext() if adapter else loaded.model.disable_adapter()
    start = time.perf_counter()
    with torch.inference_mode(), switch:
        output = loaded.model.generate(**inputs, **options)
    seconds = time.perf_counter() - start
    answer = output[0, prompt_tokens:]
    tokens = int(answer.shape[-1])
    replies.send(
        "end",
        id=rid,
        text=loaded.tokenizer.decode(answer, skip_special_tokens=True),
        tokens=tokens,
        seconds=round(seconds, 4),
        tokens_per_s=round(tokens / seconds, 2) if seconds > 0 else None,
        first_token_s=None if stream.first_at is None else round(stream.first_at - start, 4),
        stopped=rid in stopped,
        adapter=adapter,
    )


def eval_rows(loaded: Loaded, run_dir: Path, count: int) -> dict[str, Any]:
    """Up to `count` rows the run held out (its eval split, drawn as training drew it), else
    rows it trained on: each as the conversation to ask and the reference answer."""
    from engines import data

    settings = loaded.settings
    grpo = settings.engine == "grpo"
    folders = tuple(d for d in (_profile_folder(run_dir), run_dir) if d is not None)
    rows, fmt, source = data.load_for(settings.data, folders, grpo=grpo)
    shape = data.to_grpo if grpo else data.to_sft
    rows = shape(rows, fmt, loaded.tokenizer, say)
    train, held_out = data.split_eval(rows, settings.data.eval_fraction, settings.train.seed)
    chosen = held_out if held_out is not None else train
    found = []
    for row in chosen.to_list():
        pair = _prompt_and_reference(row)
        if pair is not None:
            found.append({"messages": pair[0], "reference": pair[1]})
        if len(found) == count:
            break
    return {"split": "eval" if held_out is not None else "train", "source": str(source),
            "rows": found}  # fmt: skip


def _profile_folder(run_dir: Path) -> Path | None:
    """The original profile's folder (relative data paths are looked up there first)."""
    try:
        meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        return Path(meta["profile_source"]).parent
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _prompt_and_reference(row: dict[str, Any]) -> tuple[list[dict[str, str]], str] | None:
    """(the turns to ask, the reference answer) of a row in TRL's shapes; None for `text`."""

    def turns(value: Any) -> list[dict[str, str]]:
        if isinstance(value, list):
            return [{"role": str(m.get("role")), "content": str(m.get("content"))} for m in value]
        return [{"role": "user", "content": str(value)}]

    if row.get("messages"):
        messages = turns(row["messages"])
        if len(messages) > 1 and messages[-1]["role"] == "assistant":
            return messages[:-1], messages[-1]["content"]
        return None
    if row.get("prompt"):
        completion = row.get("completion", row.get("answer", ""))
        reference = turns(completion)[-1]["content"] if completion else ""
        return turns(row["prompt"]), reference
    return None


def _messages(value: Any) -> list[dict[str, str]]:
    ok = (
        isinstance(value, list)
        and value
        and all(
            isinstance(m, dict)
            and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str)
            for m in value
        )
    )
    if not ok:
        raise ChatError('messages must be a list of {"role": ..., "content": ...} objects')
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _read_requests(requests: queue.Queue, stopped: set, replies: Replies) -> None:
    """stdin → the queue; a `stop` is noted at once (the generation it names checks it)."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request["op"]
        except (ValueError, TypeError, KeyError):
            replies.send("error", id=None, message=f"not a request: {line.strip()[:200]!r}")
            continue
        if op == "stop":
            stopped.add(request.get("id"))
        elif op == "quit":
            break
        elif op in ("generate", "eval_rows"):
            requests.put(request)
        else:
            replies.send("error", id=request.get("id"), message=f"unknown op {op!r}")
    requests.put(None)


def main(run_dir: str, checkpoint: int | None = None) -> int:
    replies = Replies()
    start = time.perf_counter()
    try:
        loaded = load(Path(run_dir), checkpoint)
    except Exception as exc:  # said on the protocol, with the traceback in the log
        import traceback

        traceback.print_exc()
        said = str(exc) if isinstance(exc, (ChatError, modeling.ModelLoadError)) else None
        replies.send("error", id=None, message=said or f"{type(exc).__name__}: {exc}")
        return 1
    replies.send(
        "ready",
        model=loaded.settings.model.name_or_path,
        weights=str(loaded.weights),
        device=loaded.device,
        template=loaded.template,
        can_compare=loaded.peft,
        load_s=round(time.perf_counter() - start, 3),
        max_positions=loaded.max_positions,
    )
    requests: queue.Queue = queue.Queue()
    stopped: set = set()
    threading.Thread(
        target=_read_requests, args=(requests, stopped, replies), name="requests", daemon=True
    ).start()
    while (request := requests.get()) is not None:
        try:
            if request.get("op") == "eval_rows":
                found = eval_rows(loaded, Path(run_dir), max(1, int(request.get("n") or 5)))
                replies.send("rows", id=request.get("id"), **found)
                continue
            generate(loaded, request, replies, stopped)
        except Exception as exc:
            message = str(exc)
            if not isinstance(exc, ChatError):
                import traceback

                traceback.print_exc()
                message = f"{type(exc).__name__}: {exc}"
            replies.send("error", id=request.get("id"), message=message)
    return 0
