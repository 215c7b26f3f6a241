"""`python -m engines data PROFILE`: the profile's data as the trainer will see it.

It runs under the profile's training interpreter and goes through the trainer's own steps
(`engines.data`: reading, `[data] columns`, ShareGPT roles, format detection, shaping;
`engines.data_tokens`: the chat template and tokenisation TRL applies), so what it reports
is what training gets. Without the model's tokenizer (not in the Hugging Face cache; the
check never downloads) it still reports everything that needs none.

`--json` prints ONE object (schema 1; keys may be added, none removed or renamed):

- `schema` 1; `profile`, `engine` ("sft" | "grpo"); `source` (the file or dataset id);
  `ok`: false when any finding is an error;
- file: `rows` (rows read), `size_bytes`, `encoding` ("UTF-8", "UTF-8 with BOM", "GBK
  (Simplified Chinese)", "binary (columnar)" …), `file_kind` (jsonl | json | csv | tsv |
  txt | parquet | arrow | dataset), `columns` (the file's, in order), `mapping` (column →
  role used: the profile's `[data] columns`, ShareGPT's conversations → messages, or the
  format's own names), `format` (chat | instruction | prompt-completion | text, null when
  unknown), `format_reason` (why: forced by the profile, or the columns it was detected by);
- `rows_used`: rows the trainer keeps (after empty ones are left out); `max_seq_length`;
- `tokenizer`: {`source` (path or hub id), `offline` (true: no tokenizer could be loaded,
  token figures below are null), `chat_template` ("model" | "fallback" | null), `note`};
- `token_lengths` (null offline): {`of` ("sequence"; GRPO: "prompt"), `limit`
  (max_seq_length; GRPO: max_prompt_length), `p50`, `p95`, `max`, `mean`, `histogram`:
  [{`lo`, `hi`, `count`}] (lo < tokens ≤ hi; the limit is a bin edge), `over_limit` (rows),
  `tokens_lost` (tokens past the limit, all rows)};
- SFT `trainable` (null offline): {`trained_on` ("whole sequence" for chat and text rows,
  "completion" for prompt/completion and instruction rows), `per_row`: {`min`, `p50`,
  `mean`, `max`}, `total`, `zero_rows` (rows with no trained token left: the trainer drops
  them)};
- `steps_per_epoch`, `examples_per_step` (batch × grad_accum × GPUs), `tokens_per_epoch`
  (tokens the model reads per epoch after the cut; null offline), `packed_sequences` (with
  packing), `estimate_note`;
- GRPO `grpo`: {`max_prompt_length`, `rewards`: [{`name`, `needs`: [columns], `missing`:
  [columns]}], `prompts_over_limit`};
- `findings`: [{`id`, `severity` ("error" | "warning"), `lines` (1-based file lines, at most
  100; CSV rows count the header as line 1; Parquet/dataset: row numbers), `count` (all
  of them), `detail`, `fix`, and for data_malformed_line `line_notes`: [{`line`, `note`}]}];
- `preview`: [{`line`, `tokens`, `trained_tokens`, `segments`: [{`text`, `trained`}] (the
  exact text the model reads, template applied, split where training starts or stops),
  `cut_text` (text past max_seq_length the model never sees)}], the first `--limit` rows and
  the `--rows` lines asked for ({`line`, `error`} for a line with no row); offline, the rows
  as data: {`line`, `row`}.

Finding ids (severity error unless noted): data_file_missing, data_unreadable,
data_malformed_line, data_format_unknown, data_mixed_schema (warning), data_empty_field,
data_duplicates (warning), data_truncated (warning), data_no_trainable_tokens (error when
over 5 % of rows, else warning), data_chat_template_missing, data_bad_roles,
data_too_few_rows, grpo_missing_column, grpo_prompt_too_long (warning).

`--quick` reports only what needs no tokenizer (reading, mapping, format, the findings
about lines, fields, roles, rows and reward columns; `tokenizer` and the token figures are
null) without importing transformers: pre-flight runs it before every start.

Progress goes to stderr as `progress 0.42` lines. Exit status: 0 no error finding, 1 error
findings, 2 the check could not run (unreadable profile, bad arguments).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines import data, data_findings
from engines.data_findings import Finding, finding
from engines.profile_schema import Profile

SCHEMA = 1


@dataclass
class Options:
    lines: Sequence[int] = ()
    """File lines to preview besides the first rows."""
    limit: int = 3
    """First rows previewed."""
    progress: Callable[[float], None] | None = None
    tokenizer: Any = None
    """A tokenizer to use instead of loading the model's (tests, benchmarks)."""
    quick: bool = False
    """Only what needs no tokenizer (transformers is never imported): what pre-flight
    runs before every start, in a fraction of a second."""


@dataclass
class _State:
    """What the check has learnt so far."""

    profile: Profile
    options: Options
    report: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    fmt: str | None = None
    folders: tuple[Path, ...] = ()
    """Where relative paths (data, user rewards) are looked up first."""

    @property
    def grpo(self) -> bool:
        return self.profile.engine == "grpo"

    def add(self, item: Finding | None) -> None:
        if item is not None:
            self.findings.append(item)

    def progress(self, low: float, high: float) -> Callable[[float], None] | None:
        report = self.options.progress
        if report is None:
            return None
        return lambda done: report(low + (high - low) * done)


def run_check(
    profile: Profile, folders: Sequence[Path] = (), options: Options | None = None
) -> dict[str, Any]:
    """The data check's report (see the module docstring) for a profile."""
    state = _State(profile, options or Options(), _blank_report(profile), folders=tuple(folders))
    try:
        if _read(state) and _shape(state) and not state.options.quick:
            from engines.datacheck_tokens import measure_report

            measure_report(state)
    finally:
        _finish(state)
    return state.report


def _blank_report(profile: Profile) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "profile": profile.name,
        "engine": profile.engine,
        "source": profile.data.path,
        "ok": True,
        "rows": 0,
        "rows_used": None,
        "size_bytes": None,
        "encoding": None,
        "file_kind": None,
        "columns": [],
        "mapping": {},
        "format": None,
        "format_reason": "",
        "max_seq_length": profile.model.max_seq_length,
        "tokenizer": None,
        "token_lengths": None,
        "trainable": None,
        "steps_per_epoch": None,
        "examples_per_step": None,
        "tokens_per_epoch": None,
        "packed_sequences": None,
        "estimate_note": "",
        "grpo": None,
        "findings": [],
        "preview": [],
    }


def _finish(state: _State) -> None:
    order = {"error": 0, "warning": 1}
    state.findings.sort(key=lambda f: order[f.severity])
    state.report["findings"] = [f.as_dict() for f in state.findings]
    state.report["ok"] = not any(f.severity == "error" for f in state.findings)
    if state.options.progress is not None:
        state.options.progress(1.0)


def _read(state: _State) -> bool:
    """Read the file into state.rows; False (with a finding) when there is nothing to check."""
    source = data.resolve_data_path(state.profile.data.path, state.folders)
    state.report["source"] = str(source)
    if isinstance(source, Path) and not source.exists():
        state.add(_missing(source))
        return False
    try:
        table = data.read_source(source, state.progress(0.0, 0.25))
    except data.DataError as exc:
        fix = "check the dataset id, or download it first while online"
        state.add(finding("data_file_missing", "error", [], str(exc), fix))
        return False
    state.report.update(
        rows=len(table.rows),
        size_bytes=table.size_bytes or None,
        encoding=table.encoding or None,
        file_kind=table.kind,
        columns=data.column_names(table.rows),
    )
    if table.unreadable:
        state.add(_unreadable(table.unreadable, table.encoding, source))
        return False
    state.add(_malformed(table))
    state.rows, state.lines = table.rows, table.lines
    if not table.rows:
        detail = f"{source} holds no rows"
        state.add(finding("data_too_few_rows", "error", [], detail, "add training examples"))
        return False
    state.add(data_findings.mixed_schema(table.rows, table.lines))
    return True


def _missing(source: Path) -> Finding:
    detail = f"data file not found: {source}"
    fix = (
        "set [data] path to an existing file; a relative path is looked up next to the "
        "profile, then in the current folder, then in the shipped profiles"
    )
    return finding("data_file_missing", "error", [], detail, fix)


def _unreadable(why: str, encoding: str, source: object) -> Finding:
    fix = "save the file as UTF-8 text (JSONL, JSON, CSV/TSV) or Parquet"
    if encoding and encoding not in ("binary", "UTF-8"):
        code = encoding.split(" ")[0].split("/")[0]
        fix = f"convert it to UTF-8, e.g. iconv -f {code} -t UTF-8 {source} > fixed.jsonl"
    return finding("data_unreadable", "error", [], f"{source}: {why}", fix)


def _malformed(table: Any) -> Finding | None:
    if not table.malformed_count:
        return None
    lines = [line for line, _ in table.malformed]
    first = "; ".join(f"line {n}: {why}" for n, why in table.malformed[:3])
    count = table.malformed_count
    lines_do = "1 line does" if count == 1 else f"{count} lines do"
    detail = f"{lines_do} not parse as {table.kind.upper()} ({first}); training stops at the first"
    fix = "fix or delete these lines (each JSONL line must be one whole JSON object)"
    item = finding("data_malformed_line", "error", lines, detail, fix)
    item.count = table.malformed_count
    item.notes = list(table.malformed)
    return item


def _shape(state: _State) -> bool:
    """Columns mapped, format found, structural findings; False when the format is unknown."""
    settings = state.profile.data
    try:
        rows, mapping = data.map_columns(state.rows, dict(settings.columns))
        columns = data.column_names(rows)
        fmt = data.detect_format(columns, settings.format, state.report["source"], state.grpo)
    except data.DataError as exc:
        state.add(_format_unknown(str(exc), state.report["columns"]))
        return False
    state.rows, state.fmt = rows, fmt
    needed = data.FORMAT_COLUMNS[fmt] + (("input",) if fmt == "instruction" else ())
    used = {c: r for c, r in mapping.items()}
    used.update({c: c for c in needed if c in columns and c not in used.values()})
    if state.grpo and "answer" in columns and "answer" not in used.values():
        used["answer"] = "answer"
    state.report.update(mapping=used, format=fmt, format_reason=_reason(state, mapping))
    _structure(state, columns)
    return True


def _reason(state: _State, mapping: dict[str, str]) -> str:
    fmt, settings = state.fmt, state.profile.data
    if settings.format != "auto":
        why = f'[data] format = "{settings.format}"'
    else:
        needed = data.needed_columns(str(fmt), state.grpo)
        why = "detected from the column" + ("s " if len(needed) > 1 else " ")
        why += " + ".join(f"'{c}'" for c in needed)
    if mapping == {"conversations": "messages"}:
        why += " (ShareGPT 'conversations' with from/value, roles mapped)"
    elif settings.columns:
        shown = ", ".join(f'{r} = "{c}"' for r, c in settings.columns.items())
        why += f" after [data] columns {{ {shown} }}"
    return why


_SUGGEST = {
    "prompt": ("question", "query", "input_text", "problem", "source", "human", "request"),
    "completion": ("answer", "response", "output_text", "target", "solution", "reply", "gpt"),
    "messages": ("dialog", "dialogue", "conversation", "chat", "turns", "conversations"),
    "text": ("content", "body", "document", "passage", "sentence"),
}


def suggest_mapping(columns: Sequence[str]) -> str:
    """A `[data] columns` line guessed from column names, or "" when nothing fits."""
    lowered = {c.lower(): c for c in columns}
    chosen: dict[str, str] = {}
    for role, names in _SUGGEST.items():
        hit = next((lowered[n] for n in names if n in lowered), None)
        if hit and hit not in chosen.values():
            chosen[role] = hit
    if "prompt" in chosen and "completion" in chosen:
        chosen = {"prompt": chosen["prompt"], "completion": chosen["completion"]}
    elif "messages" in chosen:
        chosen = {"messages": chosen["messages"]}
    elif "text" in chosen:
        chosen = {"text": chosen["text"]}
    else:
        return ""
    return "columns = { " + ", ".join(f'{r} = "{c}"' for r, c in chosen.items()) + " }"


def _format_unknown(detail: str, columns: Sequence[str]) -> Finding:
    guess = suggest_mapping(columns)
    fix = (
        f"map your columns in the profile's [data] table, e.g. {guess}"
        if guess
        else 'name the columns in [data] columns, e.g. columns = { prompt = "question", '
        'completion = "answer" }, or rename them to a known format'
    )
    return finding("data_format_unknown", "error", [], detail, fix)


def _structure(state: _State, columns: Sequence[str]) -> None:
    fmt, rows, lines = str(state.fmt), state.rows, state.lines
    state.add(data_findings.empty_fields(rows, lines, fmt, state.grpo))
    trained = data.FORMAT_COLUMNS[fmt] + (("input",) if fmt == "instruction" else ())
    state.add(data_findings.duplicates(rows, lines, [c for c in trained if c in columns]))
    if fmt == "chat":
        state.add(data_findings.bad_roles(rows, lines, state.grpo))


def main(
    profile_path: str, as_json: bool, lines: Sequence[int], limit: int, quick: bool = False
) -> int:
    """The command: print the report (JSON or text); the exit status of the module doc."""
    import json

    from engines.profile_schema import read_profile

    try:
        profile = read_profile(profile_path)
    except (OSError, ValueError) as exc:
        print(f"engines data: cannot read {profile_path}: {exc}", file=sys.stderr)
        return 2
    # the check never downloads: models and datasets come from local files and caches
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    options = Options(lines=lines, limit=limit, progress=_Progress(), quick=quick)
    report = run_check(profile, (Path(profile_path).resolve().parent,), options)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        from engines.datacheck_text import format_text

        print(format_text(report))
    return 0 if report["ok"] else 1


class _Progress:
    """`progress 0.42` lines on stderr, one per whole percent at most."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, done: float) -> None:
        percent = int(done * 100)
        if percent > self.shown:
            self.shown = percent
            print(f"progress {done:.2f}", file=sys.stderr, flush=True)
