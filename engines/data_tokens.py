"""Token counts and trained-token masks of shaped rows, as TRL's SFTTrainer builds them.

TRL 1.16 prepares an SFT dataset in `SFTTrainer._prepare_dataset`: chat rows go through the
chat template whole and every token is trained; prompt/completion rows are tokenized twice
(the prompt with the generation prompt, then prompt + completion) and only tokens after
their common prefix are trained; plain text and text completions get the eos token
appended; then sequences are cut to `max_length` (keeping the start) and rows left with no
trained token are dropped. This module does the same in batches (one template render and
one fast-tokenizer call per 1000 rows, the cost of tokenizing the rows at all), so the data
check can say for each row how long it is and how much of it is trained.
`tests/engines/test_datacheck_agreement.py` holds it to the trainer's own output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

CHUNK = 1000


@dataclass
class Measured:
    """Per row: tokens before truncation, and the index of the first trained token."""

    lengths: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    """(row index, what the chat template said) for rows it refused (length 0)."""


def common_prefix_length(ids: Sequence[int], other: Sequence[int]) -> int:
    """Leading tokens the two have in common (TRL's `common_prefix_length`)."""
    length = 0
    for token, other_token in zip(ids, other, strict=False):
        if token != other_token:
            break
        length += 1
    return length


def texts(rows: Sequence[dict[str, Any]], tokenizer: Any) -> tuple[list[str], list[str] | None]:
    """(what is tokenized whole, the prompt part or None) of shaped rows, as TRL renders them."""
    first = rows[0]
    if "messages" in first:
        return render(tokenizer, [r["messages"] for r in rows]), None
    if "text" in first:
        return [with_eos(r["text"], tokenizer) for r in rows], None
    if isinstance(first["prompt"], list):
        prompts = render(tokenizer, [r["prompt"] for r in rows], generation=True)
        return render(tokenizer, [r["prompt"] + r["completion"] for r in rows]), prompts
    completions = [with_eos(r["completion"], tokenizer) for r in rows]
    return [r["prompt"] + c for r, c in zip(rows, completions, strict=True)], [
        r["prompt"] for r in rows
    ]


def special_tokens(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether the tokenizer adds its special tokens (plain strings yes; rendered chats no)."""
    first = rows[0]
    return "text" in first or ("prompt" in first and not isinstance(first["prompt"], list))


def with_eos(text: str, tokenizer: Any) -> str:
    eos = tokenizer.eos_token or ""
    return text if text.endswith(eos) else text + eos


def render(tokenizer: Any, conversations: list[Any], generation: bool = False) -> list[str]:
    out = tokenizer.apply_chat_template(
        conversations, tokenize=False, add_generation_prompt=generation
    )
    return [out] if isinstance(out, str) else list(out)


def measure(
    rows: Sequence[dict[str, Any]],
    tokenizer: Any,
    progress: Callable[[float], None] | None = None,
) -> Measured:
    """Token length and first trained token of every shaped SFT row."""
    result = Measured()
    for begin in range(0, len(rows), CHUNK):
        chunk = rows[begin : begin + CHUNK]
        try:
            _measure_chunk(chunk, tokenizer, result)
        except Exception:  # one row the template refuses: find it, measure the rest
            for offset, row in enumerate(chunk):
                try:
                    _measure_chunk([row], tokenizer, result)
                except Exception as exc:
                    result.failed.append((begin + offset, f"{type(exc).__name__}: {exc}"))
                    result.lengths.append(0)
                    result.starts.append(0)
        if progress is not None:
            progress(min(1.0, (begin + len(chunk)) / len(rows)))
    return result


def _measure_chunk(chunk: Sequence[dict[str, Any]], tokenizer: Any, out: Measured) -> None:
    whole, prompts = texts(chunk, tokenizer)
    special = special_tokens(chunk)
    ids = _ids(tokenizer, whole, special)
    if prompts is None:
        starts = [0] * len(ids)
    else:
        prompt_ids = _ids(tokenizer, prompts, special)
        starts = [common_prefix_length(p, f) for p, f in zip(prompt_ids, ids, strict=True)]
    out.lengths.extend(len(i) for i in ids)
    out.starts.extend(starts)


def _ids(tokenizer: Any, strings: list[str], special: bool) -> list[list[int]]:
    encoded = tokenizer(strings, add_special_tokens=special, return_attention_mask=False)
    return encoded["input_ids"]


def trained_tokens(length: int, start: int, limit: int) -> int:
    """Tokens with a label after the cut to ``limit`` (keep_start)."""
    return max(0, min(length, limit) - start)


def prompt_lengths(prompts: Sequence[Any], tokenizer: Any) -> list[int]:
    """GRPO prompt tokens as the trainer feeds them (chat template + generation prompt)."""
    out: list[int] = []
    for begin in range(0, len(prompts), CHUNK):
        chunk = list(prompts[begin : begin + CHUNK])
        if chunk and isinstance(chunk[0], list):
            strings, special = render(tokenizer, chunk, generation=True), False
        else:
            strings, special = [str(p) for p in chunk], True
        out.extend(len(i) for i in _ids(tokenizer, strings, special))
    return out


def row_tokens(row: dict[str, Any], tokenizer: Any, limit: int) -> dict[str, Any]:
    """One shaped row as the model sees it: its ids, trained mask, text segments
    [{text, trained}] (the text each token covers, in order) and the text cut off."""
    whole, prompts = texts([row], tokenizer)
    text, special = whole[0], special_tokens([row])
    encoded = tokenizer(text, add_special_tokens=special, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    start = 0
    if prompts is not None:
        start = common_prefix_length(_ids(tokenizer, prompts, special)[0], ids)
    seen = min(len(ids), limit)
    mask = [i >= start for i in range(seen)]
    segments: list[dict[str, Any]] = []
    position, specials = 0, set(tokenizer.all_special_ids)
    for index in range(seen):
        begin, end = offsets[index]
        piece = ""
        if end > position:
            piece, position = text[position:end], end
        elif begin == end and ids[index] in specials:  # an added BOS: no text of its own
            piece = tokenizer.convert_ids_to_tokens(ids[index])
        _append(segments, piece, mask[index])
    cut = text[position:] if seen < len(ids) else ""
    return {"ids": ids[:seen], "mask": mask, "segments": segments, "cut_text": cut}


def _append(segments: list[dict[str, Any]], piece: str, trained: bool) -> None:
    if segments and segments[-1]["trained"] == trained:
        segments[-1]["text"] += piece
    elif piece:
        segments.append({"text": piece, "trained": trained})
