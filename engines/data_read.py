"""Reading a local data file row by row, with the line each row came from.

`datasets` reads JSONL and CSV well but says only "DatasetGenerationError" about a bad line,
and guesses column types (pandas turns a CSV column of "5" into integers). Training and the
data check both read local files here instead: every bad line is named with the parser's own
words, a file in another encoding (UTF-16, GBK…) is named as such, and CSV cells stay text.
Parquet and Arrow files are read with pyarrow (rows numbered from 1); directories and dataset
ids go through `datasets` (see `engines.data.read_source`).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MALFORMED_CAP = 200
"""Bad lines listed at most (all are counted)."""
TEXT_KINDS = {".jsonl": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv", ".txt": "txt"}
TABLE_KINDS = {".parquet": "parquet", ".arrow": "arrow"}
_CJK_GUESSES = (("gbk", "GBK (Simplified Chinese)"), ("big5", "Big5 (Traditional Chinese)"))
_OTHER_GUESSES = (
    ("shift_jis", "Shift-JIS (Japanese)"),
    ("euc_kr", "EUC-KR (Korean)"),
    ("cp1252", "Windows-1252 / Latin-1"),
)

Progress = Callable[[float], None]


@dataclass
class Table:
    """The rows of a file as dicts, each with its 1-based line (the row number for Parquet)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    kind: str = ""
    """jsonl | json | csv | tsv | txt | parquet | arrow | dataset."""
    encoding: str = ""
    size_bytes: int = 0
    malformed: list[tuple[int, str]] = field(default_factory=list)
    """(line, what the parser said), up to MALFORMED_CAP."""
    malformed_count: int = 0
    unreadable: str = ""
    """Why nothing could be read (binary, another encoding); empty when readable."""


def _bad(table: Table, line: int, message: str) -> None:
    table.malformed_count += 1
    if len(table.malformed) < MALFORMED_CAP:
        table.malformed.append((line, message))


def read_file(path: Path, progress: Progress | None = None) -> Table:
    """Every row of a local file; problems are recorded in the Table, never raised."""
    suffix = path.suffix.lower()
    if suffix in TABLE_KINDS:
        return _read_arrow(path, TABLE_KINDS[suffix])
    raw = path.read_bytes()
    table = Table(kind=TEXT_KINDS.get(suffix, "jsonl"), size_bytes=len(raw))
    text = _decode(raw, table)
    if text is None:
        return table
    if table.kind in ("csv", "tsv"):
        _read_csv(text, table, "\t" if table.kind == "tsv" else ",", progress)
    elif table.kind == "txt":
        _read_txt(text, table)
    elif table.kind == "json" and text.lstrip().startswith("["):
        _read_json_array(text, table)
    else:
        table.kind = "jsonl"
        _read_jsonl(text, table, progress)
    return table


def _decode(raw: bytes, table: Table) -> str | None:
    """The text (UTF-8, with or without BOM); else None with `unreadable` saying why."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32")):
        if raw.startswith(bom):
            table.encoding, table.unreadable = name, _other_encoding(name)
            return None
    for bom, name in ((codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if raw.startswith(bom):
            table.encoding, table.unreadable = name, _other_encoding(name)
            return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        table.encoding = guess_encoding(raw)
        if table.encoding == "binary":
            where = f"byte {exc.start}"
            table.unreadable = f"not a text file (binary data from {where}); expected UTF-8 text"
        else:
            table.unreadable = _other_encoding(table.encoding)
        return None
    if "\x00" in text[:4096]:
        table.encoding = "UTF-16" if text[1:2] == "\x00" or text[:1] == "\x00" else "binary"
        if table.encoding == "binary":
            table.unreadable = "not a text file (NUL bytes); expected UTF-8 text"
        else:
            table.unreadable = _other_encoding("UTF-16")
        return None
    table.encoding = "UTF-8 with BOM" if text.startswith("\ufeff") else "UTF-8"
    return text.lstrip("\ufeff")


def _other_encoding(name: str) -> str:
    return f"the file is {name}, not UTF-8 (training reads UTF-8 only)"


def guess_encoding(raw: bytes) -> str:
    """A likely name for text that is not UTF-8: a CJK code page when the decoded text is
    mostly CJK, "UTF-16" for NUL-interleaved text, "binary" for neither."""
    sample = raw[:65536]
    if sample.count(b"\x00") > len(sample) // 8:
        odd = (
            sample[1::2].count(b"\x00") > len(sample) // 4
            or sample[::2].count(b"\x00") > len(sample) // 4
        )
        return "UTF-16" if odd else "binary"
    for codec, name in _CJK_GUESSES:
        text = _try_decode(sample, codec)
        if text is not None and _cjk_share(text) >= 0.6:
            return name
    for codec, name in _OTHER_GUESSES:
        text = _try_decode(sample, codec)
        if text is not None and _control_share(text) < 0.01:
            return name
    return "binary"


def _try_decode(sample: bytes, codec: str) -> str | None:
    # the sample may end inside a multi-byte character: drop at most 3 bytes to find out
    for cut in range(4):
        try:
            return sample[: len(sample) - cut].decode(codec)
        except UnicodeDecodeError:
            continue
    return None


def _cjk_share(text: str) -> float:
    wide = [c for c in text if ord(c) > 127]
    cjk = [c for c in wide if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"]
    return len(cjk) / len(wide) if wide else 0.0


def _control_share(text: str) -> float:
    control = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t")
    return control / max(1, len(text))


def _read_jsonl(text: str, table: Table, progress: Progress | None) -> None:
    decode = json.JSONDecoder().decode
    lines = text.split("\n")
    step = max(1, len(lines) // 50)
    for number, line in enumerate(lines, start=1):
        if progress is not None and number % step == 0:
            progress(number / len(lines))
        if not line.strip():
            continue
        try:
            row = decode(line)
        except json.JSONDecodeError as exc:
            _bad(table, number, f"{exc.msg} (column {exc.colno})")
            continue
        if not isinstance(row, dict):
            _bad(table, number, f"a JSON {type(row).__name__}, not an object {{…}}")
            continue
        table.rows.append(row)
        table.lines.append(number)


def _read_json_array(text: str, table: Table) -> None:
    """A JSON array of objects, each row numbered by the line its object starts on."""
    decoder = json.JSONDecoder()
    index, line, end = text.index("[") + 1, 1 + text.count("\n", 0, text.index("[")), len(text)
    position = index
    while True:
        index = _skip(text, index, end)
        if index < end and text[index] == "]":
            return
        line += text.count("\n", position, index)
        position = index
        try:
            row, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            message = f"{exc.msg} (column {exc.colno}); the rest of the array is unread"
            _bad(table, exc.lineno, message)
            return
        if isinstance(row, dict):
            table.rows.append(row)
            table.lines.append(line)
        else:
            _bad(table, line, f"a JSON {type(row).__name__}, not an object {{…}}")
        index = _skip(text, index, end)
        if index < end and text[index] == ",":
            index += 1


def _skip(text: str, index: int, end: int) -> int:
    while index < end and text[index] in " \t\r\n":
        index += 1
    return index


def _read_csv(text: str, table: Table, delimiter: str, progress: Progress | None) -> None:
    """Rows of a CSV/TSV file as text; the header is line 1, a row's line is where it starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    total = max(1, text.count("\n"))
    header: list[str] | None = None
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            _bad(table, start, str(exc))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(cells) != len(header):
            _bad(table, line, f"{len(cells)} fields, but the header has {len(header)}")
            continue
        table.rows.append(dict(zip(header, cells, strict=True)))
        table.lines.append(line)
        if progress is not None and len(table.rows) % 5000 == 0:
            progress(line / total)


def _read_txt(text: str, table: Table) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            table.rows.append({"text": line.rstrip("\r")})
            table.lines.append(number)


def _read_arrow(path: Path, kind: str) -> Table:
    table = Table(kind=kind, size_bytes=path.stat().st_size, encoding="binary (columnar)")
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            data = pq.read_table(path)
        else:
            import pyarrow as pa

            with pa.memory_map(str(path)) as source:
                data = _arrow_stream(pa, source)
    except Exception as exc:  # pyarrow's errors share no base class worth naming
        table.unreadable = f"not a readable {kind} file: {exc}"
        return table
    table.rows = data.to_pylist()
    table.lines = list(range(1, len(table.rows) + 1))
    return table


def _arrow_stream(pa: Any, source: Any) -> Any:
    try:
        return pa.ipc.open_stream(source).read_all()
    except pa.ArrowInvalid:
        return pa.ipc.open_file(source).read_all()
