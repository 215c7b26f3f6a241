"""`cockpit estimate` reads the Data check's cached report: the sequence cut says what it cuts.

Before, the estimate never got the data's token lengths, so the suggestion to shorten
max_seq_length always said "rows it truncates unknown: run the Data check", even right
after `cockpit data` had measured them.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from cockpit.cli.estimate import estimate_main
from cockpit.runs import datacheck
from tests.runs_helpers import REPO

QLORA_4GB = REPO / "profiles" / "rtx3050-4gb-llama-3.2-3b-qlora.toml"
LENGTHS = {
    "of": "sequence", "limit": 2048, "p50": 700, "p95": 1530, "max": 2040, "mean": 760.0,
    "histogram": [{"lo": 0, "hi": 256, "count": 1000}, {"lo": 256, "hi": 1024, "count": 3588},
                  {"lo": 1024, "hi": 2048, "count": 412}],
    "over_limit": 0, "tokens_lost": 0,
}  # fmt: skip


def _profile(tmp_path: Path) -> Path:
    path = tmp_path / "wide.toml"
    text = QLORA_4GB.read_text(encoding="utf-8").replace("batch_size = 1", "batch_size = 4")
    text = text.replace('"data/demo.jsonl"', repr(str(REPO / "profiles" / "data" / "demo.jsonl")))
    path.write_text(text, encoding="utf-8")
    return path


def _estimate(path: Path) -> str:
    out = io.StringIO()
    estimate_main(str(path), 4.0, trace=False, as_json=False, out=out, calibration=False)
    return out.getvalue()


def test_the_sequence_cut_counts_the_rows_it_truncates_once_the_data_was_checked(tmp_path):
    path = _profile(tmp_path)
    assert "rows it truncates unknown: run the Data check" in _estimate(path)
    key = datacheck.cache_key(path, sys.executable, (), 3)
    datacheck._store(key, {"schema": 1, "token_lengths": LENGTHS, "findings": []})
    text = _estimate(path)
    assert "rows it truncates unknown" not in text
    assert "of 5,000 rows" in text and "below the data's p95 (1,530 tokens)" in text
