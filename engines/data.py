"""Training data: load a local file or a dataset id, detect its format, shape it for TRL.

Formats: chat (`messages`), instruction (`instruction`, optional `input`, `output`),
prompt-completion (`prompt`, `completion`) and plain `text`. SFT gets one of TRL's own
shapes (`messages`, `prompt`/`completion`, `text`); GRPO gets a `prompt` column plus the
row's other columns (an `answer` for the built-in rewards). A missing column is an error
that names the columns found and the formats accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engines.emitter import Say
from engines.profile_schema import DataSection

FORMAT_COLUMNS: dict[str, tuple[str, ...]] = {
    "chat": ("messages",),
    "instruction": ("instruction", "output"),
    "prompt-completion": ("prompt", "completion"),
    "text": ("text",),
}
_ACCEPTED = (
    "'messages' (chat), 'instruction' + 'output' (instruction, 'input' optional), "
    "'prompt' + 'completion' (prompt-completion) or 'text' (text)"
)
_BUILDERS = {
    ".jsonl": "json",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".txt": "text",
}
SIMPLE_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
"""For chat data on a model without a chat template (a base model)."""


class DataError(ValueError):
    """The data cannot be used: missing file, unknown format, missing column, no examples."""


def shipped_profiles_dir() -> Path:
    """The shipped profiles: inside an installed wheel (cockpit/shipped_profiles), else the
    source checkout's profiles/ beside the engines package."""
    import engines

    root = Path(engines.__file__).resolve().parent.parent
    installed = root / "cockpit" / "shipped_profiles"
    return installed if installed.is_dir() else root / "profiles"


def resolve_data_path(text: str, folders: Sequence[Path] = ()) -> Path | str:
    """A local file (relative: in ``folders``, the cwd, the shipped profiles) or a dataset id."""
    candidate = Path(text).expanduser()
    if candidate.is_absolute():
        return candidate
    bases = [*folders, Path.cwd(), shipped_profiles_dir()]
    for base in bases:
        if (base / candidate).exists():
            return (base / candidate).resolve()
    if text.startswith((".", "~")) or "\\" in text or candidate.suffix.lower() in _BUILDERS:
        return (bases[0] / candidate).resolve()
    return text


def load_rows(source: Path | str) -> Any:
    """The rows as a `datasets.Dataset` (the train split of a dataset id)."""
    import datasets

    if isinstance(source, str):
        try:
            return datasets.load_dataset(source, split="train")
        except Exception as exc:
            raise DataError(f"could not load dataset {source!r}: {exc}") from exc
    if not source.exists():
        raise DataError(f"data file not found: {source}")
    if source.is_file() and not _has_content(source):
        raise DataError(f"empty dataset: {source} has no examples")
    builder = _BUILDERS.get(source.suffix.lower())
    kwargs: dict[str, Any] = {"delimiter": "\t"} if source.suffix.lower() == ".tsv" else {}
    try:
        if source.is_dir():
            return datasets.load_dataset(str(source), split="train")
        if builder is None:
            raise DataError(f"unknown data file type {source.suffix!r}: use {', '.join(_BUILDERS)}")
        return datasets.load_dataset(builder, data_files=str(source), split="train", **kwargs)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"could not read {source}: {type(exc).__name__}: {exc}") from exc


def _has_content(path: Path) -> bool:
    with open(path, "rb") as handle:
        return any(line.strip() for line in handle)


def detect_format(columns: list[str], wanted: str, source: object, grpo: bool = False) -> str:
    """The data format: ``wanted`` after checking its columns, or detected when "auto"."""
    if wanted != "auto":
        needed = _needed(wanted, grpo)
        missing = [c for c in needed if c not in columns]
        if missing:
            raise DataError(
                f"format {wanted!r} needs column(s) {', '.join(map(repr, missing))}, but "
                f"{source} has columns {columns}; accepted: {_ACCEPTED}"
            )
        return wanted
    for name in FORMAT_COLUMNS:
        if all(c in columns for c in _needed(name, grpo)):
            return name
    raise DataError(
        f"no known data format in {source}: found columns {columns}; expected {_ACCEPTED}"
    )


def _needed(fmt: str, grpo: bool) -> tuple[str, ...]:
    """Columns a format needs; GRPO generates the completion, so a prompt is enough."""
    if fmt not in FORMAT_COLUMNS:
        raise DataError(f"unknown data format {fmt!r}: use auto, {', '.join(FORMAT_COLUMNS)}")
    if grpo and fmt == "prompt-completion":
        return ("prompt",)
    if grpo and fmt == "instruction":
        return ("instruction",)
    return FORMAT_COLUMNS[fmt]


def ensure_chat_template(tokenizer: Any, say: Say) -> None:
    """Give a tokenizer without a chat template a simple one (and say so)."""
    if getattr(tokenizer, "chat_template", None):
        return
    tokenizer.chat_template = SIMPLE_CHAT_TEMPLATE
    say("info", "the model has no chat template; using a simple '<|role|>' template")


def instruction_prompt(row: dict[str, Any]) -> str:
    """The instruction (and its input, when present) as one user turn."""
    extra = row.get("input")
    text = str(row.get("instruction") or "")
    return f"{text}\n\n{extra}" if extra else text


def split_eval(dataset: Any, fraction: float, seed: int) -> tuple[Any, Any | None]:
    """(train, eval) with ``fraction`` of the rows held out (at least one each side)."""
    if fraction <= 0 or len(dataset) < 2:
        return dataset, None
    count = min(len(dataset) - 1, max(1, round(len(dataset) * fraction)))
    parts = dataset.train_test_split(test_size=count, seed=seed, shuffle=True)
    return parts["train"], parts["test"]


def require_rows(dataset: Any, source: object) -> None:
    if len(dataset) == 0:
        raise DataError(f"empty dataset: 0 examples after formatting ({source})")


def load_for(settings: DataSection, folders: Sequence[Path], grpo: bool) -> tuple[Any, str, Any]:
    """(rows, format, source) for a [data] table, the format detected when "auto"."""
    source = resolve_data_path(settings.path, folders)
    rows = load_rows(source)
    require_rows(rows, source)
    fmt = detect_format(list(rows.column_names), settings.format, source, grpo=grpo)
    return rows, fmt, source


def to_sft(rows: Any, fmt: str, tokenizer: Any, say: Say) -> Any:
    """Rows in one of TRL's SFT shapes: `messages`, `prompt`/`completion` or `text`."""
    if fmt == "instruction":
        chat = bool(getattr(tokenizer, "chat_template", None))
        rows = rows.map(
            lambda row: _instruction_pair(row, chat),
            remove_columns=list(rows.column_names),
        )
    keep = {"chat": ["messages"], "text": ["text"]}.get(fmt, ["prompt", "completion"])
    rows = rows.remove_columns([c for c in rows.column_names if c not in keep])
    rows = rows.filter(lambda row: all(row[c] for c in keep))
    if rows and _conversational(rows[0]):
        ensure_chat_template(tokenizer, say)
    return rows


def _instruction_pair(row: dict[str, Any], chat: bool) -> dict[str, Any]:
    """An instruction row as prompt/completion: chat turns, or an Alpaca-style text prompt."""
    if chat:
        return {
            "prompt": [{"role": "user", "content": instruction_prompt(row)}],
            "completion": [{"role": "assistant", "content": str(row.get("output") or "")}],
        }
    prompt = f"### Instruction:\n{instruction_prompt(row)}\n\n### Response:\n"
    return {"prompt": prompt, "completion": str(row.get("output") or "")}


def _conversational(row: dict[str, Any]) -> bool:
    return any(isinstance(row.get(c), list) for c in ("messages", "prompt", "completion"))


def to_grpo(rows: Any, fmt: str, tokenizer: Any, say: Say) -> Any:
    """Rows with a `prompt` (and an `answer` when the data has one) for GRPOTrainer."""
    if fmt == "text":
        raise DataError(
            "GRPO needs prompts: a 'prompt' column (or 'messages' / 'instruction'), not 'text'"
        )
    if fmt in ("chat", "instruction"):
        columns = list(rows.column_names)
        rows = rows.map(lambda row: _grpo_prompt(row, fmt, "answer" in columns))
        rows = rows.remove_columns(
            [c for c in ("messages", "instruction", "input", "output") if c in columns]
        )
    rows = rows.filter(lambda row: bool(row["prompt"]))
    if rows and isinstance(rows[0]["prompt"], list):
        ensure_chat_template(tokenizer, say)
    return rows


def _grpo_prompt(row: dict[str, Any], fmt: str, has_answer: bool) -> dict[str, Any]:
    """The prompt of a chat or instruction row; its reference reply becomes the answer."""
    if fmt == "instruction":
        prompt: Any = [{"role": "user", "content": instruction_prompt(row)}]
        reply = row.get("output")
    else:
        messages = list(row.get("messages") or [])
        last = messages[-1] if messages and messages[-1].get("role") == "assistant" else None
        prompt = messages[:-1] if last else messages
        reply = last.get("content") if last else None
    out = {"prompt": prompt}
    if not has_answer:
        out["answer"] = "" if reply is None else str(reply)
    return out
