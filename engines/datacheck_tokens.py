"""The data check's token half: the tokenizer, lengths against the limit, trained tokens,
optimizer steps per epoch, GRPO prompts and rewards, and the preview.

Rows are shaped by the trainer's own `engines.data.sft_row` / `grpo_row` and measured by
`engines.data_tokens` (TRL's tokenisation, batched). See `engines.datacheck` for the report.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engines import data, data_stats, data_tokens
from engines.data_findings import finding, listed, share

if TYPE_CHECKING:
    from engines.datacheck import _State

_TRL_REWARD_ARGS = {"prompts", "completions", "completion_ids", "trainer_state", "log_extra"}
"""Keyword arguments TRL passes every reward that are not dataset columns."""


def measure_report(state: _State) -> None:
    tokenizer, info = load_tokenizer(state)
    state.report["tokenizer"] = info
    if state.grpo:
        _grpo(state, tokenizer)
    else:
        _sft(state, tokenizer)


def load_tokenizer(state: _State) -> tuple[Any, dict[str, Any]]:
    """(tokenizer or None, the report's `tokenizer` object): the model's, from a local
    directory or the Hugging Face cache only (the check never downloads)."""
    name = state.profile.model.name_or_path
    info: dict[str, Any] = {"source": name, "offline": False, "chat_template": None, "note": ""}
    if state.options.tokenizer is not None:
        return state.options.tokenizer, info
    progress = state.progress(0.25, 0.3)
    try:
        from transformers import AutoTokenizer

        from engines.modeling import model_path

        path = model_path(name)
        info["source"] = path
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as exc:  # not cached, no hub, a broken tokenizer: say it, check the rest
        info.update(offline=True, note=_offline_note(name, exc))
        return None, info
    if progress is not None:
        progress(1.0)
    if state.profile.model.backend == "unsloth":
        info["note"] = "Unsloth loads its own copy of this tokenizer and may fix its template"
    return tokenizer, info


def _offline_note(name: str, exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (
        f"no tokenizer for {name!r} on this machine ({text[:200]}); the check does not "
        "download, so token lengths, trained tokens and the preview are left out. Training "
        f"downloads it; to see them now: hf download {name}"
    )


def _shaped(state: _State, shape: Any) -> tuple[list[dict[str, Any]], list[int]]:
    rows, lines = [], []
    for row, line in zip(state.rows, state.lines, strict=True):
        out = shape(row)
        if out is not None:
            rows.append(out)
            lines.append(line)
    return rows, lines


def _none_left(state: _State) -> None:
    detail = "no row is left once rows with empty fields are left out"
    state.add(finding("data_too_few_rows", "error", [], detail, "add training examples"))


# -- SFT ----------------------------------------------------------------------------------


def _sft(state: _State, tokenizer: Any) -> None:
    fmt = str(state.fmt)
    chat = tokenizer is None or bool(getattr(tokenizer, "chat_template", None))
    rows, lines = _shaped(state, lambda row: data.sft_row(row, fmt, chat))
    state.report["rows_used"] = len(rows)
    if not rows:
        _none_left(state)
        return
    if tokenizer is None:
        _sft_steps(state, len(rows), None, None)
        state.report["preview"] = _raw_preview(state, rows, lines)
        return
    _template(state, tokenizer, rows)
    measured = data_tokens.measure(rows, tokenizer, state.progress(0.3, 0.95))
    _template_failures(state, measured, lines)
    limit = state.profile.model.max_seq_length
    state.report["token_lengths"] = data_stats.length_summary(measured.lengths, limit, "sequence")
    trained = [
        data_tokens.trained_tokens(n, s, limit)
        for n, s in zip(measured.lengths, measured.starts, strict=True)
    ]
    failed = {index for index, _ in measured.failed}
    zero = [lines[i] for i, t in enumerate(trained) if t == 0 and i not in failed]
    state.report["trainable"] = _trainable(fmt, trained, zero)
    _truncated(state, rows, lines, measured.lengths, tokenizer)
    _no_trainable(state, zero, len(rows), measured, limit)
    packing = state.profile.train.packing
    kept = [n for n, t in zip(measured.lengths, trained, strict=True) if t > 0 or packing]
    _sft_steps(state, len(kept), kept, limit)
    state.report["preview"] = _preview(state, rows, lines, tokenizer, measured.lengths)


def _template(state: _State, tokenizer: Any, rows: list[dict[str, Any]]) -> None:
    """Chat rows on a tokenizer without a template get the trainer's fallback (and a finding)."""
    has_template = bool(getattr(tokenizer, "chat_template", None))
    state.report["tokenizer"]["chat_template"] = "model" if has_template else None
    if has_template or not data.conversational(rows[0]):
        return
    data.ensure_chat_template(tokenizer, lambda level, text: None)
    state.report["tokenizer"]["chat_template"] = "fallback"
    detail = (
        "the data is chat turns but the model's tokenizer has no chat template (a base "
        "model?): training would use cockpit's simple fallback template (engines/data.py "
        "SIMPLE_CHAT_TEMPLATE: '<|role|>' + newline + content + eos per turn), which the model "
        "has never seen; the preview shows it"
    )
    fix = (
        "use the model's instruct/chat variant, or give the tokenizer a chat template "
        "(tokenizer_config.json 'chat_template'), or use prompt/completion text rows"
    )
    state.add(finding("data_chat_template_missing", "error", [], detail, fix))


def _template_failures(state: _State, measured: Any, lines: Sequence[int]) -> None:
    if not measured.failed:
        return
    bad = [lines[index] for index, _ in measured.failed]
    index, words = measured.failed[0]
    detail = (
        f"the chat template refuses {len(bad)} rows (line {lines[index]}: {words}); "
        "training stops at the first"
    )
    fix = "fix these conversations' roles and order (see the template's words), or drop them"
    state.add(finding("data_bad_roles", "error", bad, detail, fix))


def _trainable(fmt: str, trained: list[int], zero: list[int]) -> dict[str, Any]:
    ordered = sorted(trained)
    whole = fmt in ("chat", "text")
    return {
        "trained_on": "whole sequence" if whole else "completion",
        "per_row": {
            "min": ordered[0],
            "p50": data_stats.percentile(ordered, 0.5),
            "mean": round(sum(ordered) / len(ordered), 1),
            "max": ordered[-1],
        },
        "total": sum(ordered),
        "zero_rows": len(zero),
    }


def _truncated(
    state: _State,
    rows: list[dict[str, Any]],
    lines: Sequence[int],
    lengths: Sequence[int],
    tokenizer: Any,
) -> None:
    limit = state.profile.model.max_seq_length
    over = [i for i, n in enumerate(lengths) if n > limit]
    if not over:
        return
    lost = sum(lengths[i] - limit for i in over)
    fits = math.ceil(max(lengths) / 64) * 64
    detail = (
        f"{len(over)} of {len(rows)} rows ({share(len(over), len(rows))}) are longer than "
        f"max_seq_length = {limit} tokens ({listed([lines[i] for i in over])}); their last "
        f"{lost} tokens in all are cut off and never trained"
    )
    cut_replies = _replies_cut(rows, over, tokenizer, limit)
    if cut_replies:
        detail += f"; {cut_replies} of them lose the assistant's last reply entirely"
    fix = (
        f"raise [model] max_seq_length (max_seq_length = {fits} fits every row; memory "
        "grows with it) or shorten / split the long rows"
    )
    state.add(finding("data_truncated", "warning", [lines[i] for i in over], detail, fix))


def _replies_cut(rows: list[dict[str, Any]], over: list[int], tokenizer: Any, limit: int) -> int:
    """Long chat rows whose last assistant reply starts past the limit (first 2000 looked at)."""
    if "messages" not in rows[0]:
        return 0
    heads = []
    for index in over[:2000]:
        messages = rows[index]["messages"]
        last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=0)
        if last > 0:
            heads.append(messages[:last])
    try:
        lengths = data_tokens.prompt_lengths(heads, tokenizer) if heads else []
    except Exception:  # a template that refuses a partial conversation: say nothing
        return 0
    return sum(1 for n in lengths if n >= limit)


def _no_trainable(state: _State, zero: list[int], total: int, measured: Any, limit: int) -> None:
    if not zero:
        return
    severity = "error" if len(zero) > NO_TRAINABLE_SHARE * total else "warning"
    detail = (
        f"{len(zero)} of {total} rows ({share(len(zero), total)}) have no trained token "
        f"left ({listed(zero)}): the prompt alone fills max_seq_length = {limit}, or the "
        "reply is empty; the trainer drops them, so they teach nothing"
    )
    fix = "raise [model] max_seq_length above these prompts, or shorten the prompts"
    state.add(finding("data_no_trainable_tokens", severity, zero, detail, fix))


NO_TRAINABLE_SHARE = 0.05


def _gpus(state: _State) -> int:
    gpus = state.profile.hardware.gpus
    return gpus if isinstance(gpus, int) and gpus > 0 else 1


def _sft_steps(
    state: _State, examples: int, lengths: Sequence[int] | None, limit: int | None
) -> None:
    profile = state.profile
    train = profile.train
    held_out = data_stats.eval_rows(examples, profile.data.eval_fraction)
    units = examples - held_out
    notes = []
    if train.packing and lengths is not None and limit is not None:
        packed = data_stats.packed_sequences(lengths, limit)
        units = max(1, round(packed * (examples - held_out) / max(1, examples)))
        state.report["packed_sequences"] = units
        notes.append(f"packing: {examples - held_out} rows make about {units} sequences")
    _steps(state, units, "training sequences" if train.packing else "training rows", notes)
    if lengths is not None and limit is not None:
        tokens = sum(min(n, limit) for n in lengths)
        state.report["tokens_per_epoch"] = round(tokens * (examples - held_out) / max(1, examples))


def _steps(state: _State, units: int, what: str, notes: list[str]) -> None:
    train, gpus = state.profile.train, _gpus(state)
    per_step = train.batch_size * train.grad_accum * gpus
    steps = data_stats.steps_per_epoch(units, train.batch_size, train.grad_accum, gpus)
    state.report.update(steps_per_epoch=steps, examples_per_step=per_step)
    if state.profile.hardware.gpus == "auto":
        notes.append('gpus = "auto" counted as 1')
    if train.max_steps > 0:
        notes.append(f"max_steps = {train.max_steps} overrides the epochs")
    state.report["estimate_note"] = "; ".join(notes)
    if 0 < units < per_step:
        detail = (
            f"{units} {what} is fewer than one optimizer step takes (batch_size "
            f"{train.batch_size} × grad_accum {train.grad_accum} × {gpus} GPU"
            f"{'s' * (gpus != 1)} = {per_step}): every step is a partial batch"
        )
        fix = "add rows, or lower [train] batch_size / grad_accum (or turn packing off)"
        state.add(finding("data_too_few_rows", "error", [], detail, fix))


# -- GRPO ---------------------------------------------------------------------------------


def _grpo(state: _State, tokenizer: Any) -> None:
    fmt, grpo = str(state.fmt), state.profile.grpo
    assert grpo is not None  # read_profile always sets it
    if fmt == "text":
        detail = "GRPO needs prompts: a 'prompt' column (or 'messages' / 'instruction'), not 'text'"
        fix = 'map a prompt column: [data] columns = { prompt = "your_column" }'
        state.add(finding("data_format_unknown", "error", [], detail, fix))
        return
    has_answer = "answer" in data.column_names(state.rows)
    rows, lines = _shaped(state, lambda row: data.grpo_row(row, fmt, has_answer))
    state.report["rows_used"] = len(rows)
    if not rows:
        _none_left(state)
        return
    rewards = _reward_needs(state, rows, lines)
    state.report["grpo"] = {
        "max_prompt_length": grpo.max_prompt_length,
        "rewards": rewards,
        "prompts_over_limit": None,
    }
    if tokenizer is None:
        _steps(state, len(rows) * grpo.num_generations, "completions", [_GRPO_NOTE])
        state.report["preview"] = _raw_preview(state, rows, lines)
        return
    lengths = _prompts(state, tokenizer, rows, lines)
    kept = sum(1 for n in lengths if n <= grpo.max_prompt_length)
    _steps(state, kept * grpo.num_generations, "completions", [_GRPO_NOTE])
    state.report["preview"] = _prompt_preview(state, rows, lines, tokenizer, lengths)


_GRPO_NOTE = "GRPO: a step's batch counts completions (num_generations per prompt)"


def _reward_needs(
    state: _State, rows: list[dict[str, Any]], lines: Sequence[int]
) -> list[dict[str, Any]]:
    """Each reward with the dataset columns it reads, and a finding for a missing one."""
    grpo = state.profile.grpo
    assert grpo is not None
    present = set(data.column_names(rows))
    out = []
    for name in grpo.rewards:
        needs = reward_columns(name, state)
        missing = [c for c in needs if c not in present]
        out.append({"name": name, "needs": needs, "missing": missing})
        if missing:
            detail = (
                f"the {name} reward reads the column(s) {', '.join(map(repr, missing))}, which "
                f"the data lacks (columns: {sorted(present)}); training stops at start"
            )
            fix = (
                f"add the column, map one to it ([data] columns = {{ {missing[0]} = "
                '"your_column" }), or drop the reward from [grpo] rewards'
            )
            state.add(finding("grpo_missing_column", "error", [], detail, fix))
        elif "answer" in needs:
            from engines.data_findings import empty_answers

            state.add(empty_answers(rows, lines))
    return out


def reward_columns(name: str, state: _State) -> list[str]:
    """Dataset columns a reward reads: `answer` for exact_match; a user function's own
    keyword parameters besides TRL's; none for the other built-ins."""
    if name == "exact_match":
        return ["answer"]
    if ":" not in name:
        return []
    try:
        from engines.rewards import import_reward

        function = import_reward(name, state.folders)
        parameters = inspect.signature(function).parameters.values()
    except Exception:  # not importable here: the pre-flight reward check says so
        return []
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in parameters if p.kind in kinds and p.name not in _TRL_REWARD_ARGS]


def _prompts(
    state: _State, tokenizer: Any, rows: list[dict[str, Any]], lines: Sequence[int]
) -> list[int]:
    """Prompt lengths, against max_prompt_length (the engine leaves longer ones out)."""
    grpo = state.profile.grpo
    assert grpo is not None
    prompts = [row["prompt"] for row in rows]
    if isinstance(prompts[0], list):
        _template(state, tokenizer, [{"prompt": prompts[0]}])
    lengths = data_tokens.prompt_lengths(prompts, tokenizer)
    limit = grpo.max_prompt_length
    state.report["token_lengths"] = data_stats.length_summary(lengths, limit, "prompt")
    over = [line for line, n in zip(lines, lengths, strict=True) if n > limit]
    state.report["grpo"]["prompts_over_limit"] = len(over)
    if over:
        detail = (
            f"{len(over)} of {len(rows)} prompts ({share(len(over), len(rows))}) are longer "
            f"than max_prompt_length = {limit} tokens ({listed(over)}); the engine leaves "
            "them out rather than cut them mid-sentence"
        )
        fix = f"raise [grpo] max_prompt_length (longest prompt: {max(lengths)} tokens)"
        state.add(finding("grpo_prompt_too_long", "warning", over, detail, fix))
    return lengths


# -- preview ------------------------------------------------------------------------------


def _picked(state: _State, lines: Sequence[int]) -> list[tuple[int, int | None]]:
    """(line, index among the shaped rows or None) of the rows to preview."""
    index = {line: i for i, line in enumerate(lines)}
    picked = [(line, index[line]) for line in lines[: state.options.limit]]
    for line in state.options.lines:
        if all(line != seen for seen, _ in picked):
            picked.append((line, index.get(line)))
    return picked


def _missing_row(state: _State, line: int) -> dict[str, Any]:
    if line in state.lines:
        return {"line": line, "error": f"line {line} is left out of training (an empty field)"}
    return {"line": line, "error": f"line {line} holds no row of the data"}


def _preview(
    state: _State,
    rows: list[dict[str, Any]],
    lines: Sequence[int],
    tokenizer: Any,
    lengths: Sequence[int],
) -> list[dict[str, Any]]:
    limit = state.profile.model.max_seq_length
    out = []
    for line, index in _picked(state, lines):
        if index is None:
            out.append(_missing_row(state, line))
            continue
        try:
            seen = data_tokens.row_tokens(rows[index], tokenizer, limit)
        except Exception as exc:  # the template refuses it: data_bad_roles says so
            out.append({"line": line, "error": f"{type(exc).__name__}: {exc}"})
            continue
        out.append(
            {
                "line": line,
                "tokens": lengths[index],
                "trained_tokens": sum(seen["mask"]),
                "segments": seen["segments"],
                "cut_text": seen["cut_text"],
            }
        )
    return out


def _prompt_preview(
    state: _State,
    rows: list[dict[str, Any]],
    lines: Sequence[int],
    tokenizer: Any,
    lengths: Sequence[int],
) -> list[dict[str, Any]]:
    """GRPO: the prompt as the model reads it (nothing in it is trained)."""
    out = []
    for line, index in _picked(state, lines):
        if index is None:
            out.append(_missing_row(state, line))
            continue
        prompt = rows[index]["prompt"]
        if isinstance(prompt, list):
            text = data_tokens.render(tokenizer, [prompt], generation=True)[0]
        else:
            text = str(prompt)
        segments = [{"text": text, "trained": False}]
        entry = {"line": line, "tokens": lengths[index], "trained_tokens": 0}
        out.append({**entry, "segments": segments, "cut_text": ""})
    return out


def _raw_preview(
    state: _State, rows: list[dict[str, Any]], lines: Sequence[int]
) -> list[dict[str, Any]]:
    out = []
    for line, index in _picked(state, lines):
        out.append(
            _missing_row(state, line) if index is None else {"line": line, "row": rows[index]}
        )
    return out
