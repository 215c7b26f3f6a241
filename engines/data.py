"""Training data: load a local file or a dataset id, detect its format, shape it for TRL.

Formats: chat (`messages`, or ShareGPT `conversations` with `from`/`value`), instruction
(`instruction`, optional `input`, `output`), prompt-completion (`prompt`, `completion`) and
plain `text`; a profile's `[data] columns` names the columns of any other file. SFT gets one
of TRL's own shapes (`messages`, `prompt`/`completion`, `text`); GRPO gets a `prompt` column
plus the row's other columns (an `answer` for the built-in rewards). A missing column is an
error that names the columns found and the formats accepted.

Training and the data check (`engines.datacheck`) share every step here, row by row
(`read_source`, `map_columns`, `detect_format`, `sft_row`, `grpo_row`), so the check reports
what the trainer is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engines.data_read import Progress, Table, read_file
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
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}
"""ShareGPT's `from` values → chat roles (user/assistant/tool pass through unchanged)."""


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


def read_source(source: Path | str, progress: Progress | None = None) -> Table:
    """Every row of a local file (with its line) or of a dataset id's train split."""
    if isinstance(source, Path) and source.is_file():
        return read_file(source, progress)
    if isinstance(source, Path) and not source.exists():
        raise DataError(f"data file not found: {source}")
    import datasets

    try:
        rows = datasets.load_dataset(str(source), split="train").to_list()
    except Exception as exc:
        raise DataError(f"could not load dataset {str(source)!r}: {exc}") from exc
    return Table(rows=rows, lines=list(range(1, len(rows) + 1)), kind="dataset")


def table_error(table: Table, source: object) -> str | None:
    """Why training cannot use this table (unreadable, bad lines, no rows), else None."""
    if table.unreadable:
        return f"could not read {source}: {table.unreadable}"
    if table.malformed_count:
        shown = "; ".join(f"line {n}: {why}" for n, why in table.malformed[:3])
        more = table.malformed_count - min(3, len(table.malformed))
        rest = f" (and {more} more bad line{'s' * (more != 1)})" if more else ""
        return f"{source}: {shown}{rest}; fix or delete these lines"
    if not table.rows:
        return f"empty dataset: {source} has no examples"
    return None


def load_rows(source: Path | str, columns: dict[str, str] | None = None) -> Any:
    """The rows as a `datasets.Dataset`, `columns` (role → column) applied."""
    table = read_source(source)
    problem = table_error(table, source)
    if problem:
        raise DataError(problem)
    rows, _ = map_columns(table.rows, columns or {})
    return to_dataset(rows)


def to_dataset(rows: list[dict[str, Any]]) -> Any:
    """A `datasets.Dataset` with every column any row has (None where a row lacks it)."""
    from datasets import Dataset

    names = column_names(rows)
    try:
        return Dataset.from_dict({name: [row.get(name) for row in rows] for name in names})
    except Exception as exc:  # pyarrow: a column holding text in one row, numbers in another
        raise DataError(f"the rows do not share one schema: {exc}") from exc


def column_names(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of every row, in order of first appearance."""
    names: dict[str, None] = {}
    for row in rows:
        if len(row) != len(names) or any(key not in names for key in row):
            names.update(dict.fromkeys(row))
    return list(names)


def map_columns(
    rows: list[dict[str, Any]], columns: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(rows with the format's column names, column → role used): the profile's `columns`
    renamed, ShareGPT `conversations` taken as `messages` with roles mapped. A mapped
    column the file lacks is a DataError naming the columns it has."""
    present = column_names(rows[:1000]) if rows else []
    mapping = {column: role for role, column in columns.items()}
    missing = [c for c in mapping if rows and c not in present and c not in column_names(rows)]
    if missing:
        found = column_names(rows)
        raise DataError(
            f"[data] columns names {', '.join(map(repr, missing))}, which the data lacks; "
            f"its columns: {found}"
        )
    if not mapping and "conversations" in present and "messages" not in present:
        mapping = {"conversations": "messages"}
    if mapping:
        rows = [_renamed(row, mapping) for row in rows]
    if "messages" in mapping.values() or _sharegpt(rows):
        rows = [_chatml(row) for row in rows]
    return rows, mapping


def _renamed(row: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in mapping and k not in mapping.values()}
    for column, role in mapping.items():
        if column in row:
            out[role] = row[column]
    return out


def _sharegpt(rows: list[dict[str, Any]]) -> bool:
    for row in rows[:50]:
        messages = row.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return "from" in messages[0] and "role" not in messages[0]
    return False


def _chatml(row: dict[str, Any]) -> dict[str, Any]:
    """ShareGPT turns ({from, value}) as chat turns ({role, content}); others unchanged."""
    messages = row.get("messages")
    if not isinstance(messages, list):
        return row
    turns = []
    for turn in messages:
        if isinstance(turn, dict) and "from" in turn and "role" not in turn:
            sender = str(turn.get("from"))
            turn = {"role": SHAREGPT_ROLES.get(sender, sender), "content": turn.get("value")}
        turns.append(turn)
    return {**row, "messages": turns}


def detect_format(columns: list[str], wanted: str, source: object, grpo: bool = False) -> str:
    """The data format: ``wanted`` after checking its columns, or detected when "auto"."""
    if wanted != "auto":
        needed = needed_columns(wanted, grpo)
        missing = [c for c in needed if c not in columns]
        if missing:
            raise DataError(
                f"format {wanted!r} needs column(s) {', '.join(map(repr, missing))}, but "
                f"{source} has columns {columns}; accepted: {_ACCEPTED}"
            )
        return wanted
    for name in FORMAT_COLUMNS:
        if all(c in columns for c in needed_columns(name, grpo)):
            return name
    raise DataError(
        f"no known data format in {source}: found columns {columns}; expected {_ACCEPTED}"
    )


def needed_columns(fmt: str, grpo: bool) -> tuple[str, ...]:
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
    rows = load_rows(source, settings.columns)
    require_rows(rows, source)
    fmt = detect_format(list(rows.column_names), settings.format, source, grpo=grpo)
    return rows, fmt, source


SFT_COLUMNS = {"chat": ("messages",), "text": ("text",)}
"""The columns of each SFT shape; prompt-completion (and instruction) keep the other two."""


def sft_columns(fmt: str) -> tuple[str, ...]:
    return SFT_COLUMNS.get(fmt, ("prompt", "completion"))


def sft_row(row: dict[str, Any], fmt: str, chat: bool) -> dict[str, Any] | None:
    """A row in TRL's SFT shape, or None when a field it needs is empty (the row is left out).
    Instruction rows become chat turns when the tokenizer has a template (``chat``)."""
    if fmt == "instruction":
        row = _instruction_pair(row, chat)
    keep = sft_columns(fmt)
    out = {c: row.get(c) for c in keep}
    return out if all(out[c] for c in keep) else None


def to_sft(rows: Any, fmt: str, tokenizer: Any, say: Say) -> Any:
    """Rows in one of TRL's SFT shapes: `messages`, `prompt`/`completion` or `text`."""
    chat = bool(getattr(tokenizer, "chat_template", None))
    shaped = [sft_row(row, fmt, chat) for row in rows.to_list()]
    kept = [row for row in shaped if row is not None]
    if kept and conversational(kept[0]):
        ensure_chat_template(tokenizer, say)
    return to_dataset(kept) if kept else rows.select([]).select_columns([])


def _instruction_pair(row: dict[str, Any], chat: bool) -> dict[str, Any]:
    """An instruction row as prompt/completion: chat turns, or an Alpaca-style text prompt."""
    if chat:
        return {
            "prompt": [{"role": "user", "content": instruction_prompt(row)}],
            "completion": [{"role": "assistant", "content": str(row.get("output") or "")}],
        }
    prompt = f"### Instruction:\n{instruction_prompt(row)}\n\n### Response:\n"
    return {"prompt": prompt, "completion": str(row.get("output") or "")}


def conversational(row: dict[str, Any]) -> bool:
    """Chat turns (TRL formats them with the chat template), not plain text."""
    return any(isinstance(row.get(c), list) for c in ("messages", "prompt", "completion"))


def grpo_row(row: dict[str, Any], fmt: str, has_answer: bool) -> dict[str, Any] | None:
    """A row with a `prompt` (chat and instruction rows: their reply becomes `answer` unless
    the data has one), or None when the prompt is empty (the row is left out)."""
    if fmt in ("chat", "instruction"):
        rest = {k: v for k, v in row.items() if k not in _GRPO_SOURCE_COLUMNS}
        row = {**rest, **_grpo_prompt(row, fmt, has_answer)}
    return row if row.get("prompt") else None


_GRPO_SOURCE_COLUMNS = ("messages", "instruction", "input", "output")


def to_grpo(rows: Any, fmt: str, tokenizer: Any, say: Say) -> Any:
    """Rows with a `prompt` (and an `answer` when the data has one) for GRPOTrainer."""
    if fmt == "text":
        raise DataError(
            "GRPO needs prompts: a 'prompt' column (or 'messages' / 'instruction'), not 'text'"
        )
    has_answer = "answer" in rows.column_names
    shaped = [grpo_row(row, fmt, has_answer) for row in rows.to_list()]
    kept = [row for row in shaped if row is not None]
    if kept and isinstance(kept[0]["prompt"], list):
        ensure_chat_template(tokenizer, say)
    return to_dataset(kept) if kept else rows.select([])


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
