"""`cockpit data PROFILE`: what a person reads in a terminal, `--json`, the exit codes, and
the client that runs the engine's check (cache, cancel, interpreter).

The tests marked slow run the real engine on the tiny demo model; the others feed
`print_report` a report shaped like the engine's.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading

import pytest

from cockpit.cli.data import data_main, parse_rows, print_report
from cockpit.runs import data_view
from cockpit.runs.datacheck import cache_dir, cache_key, run_data_check
from tests.datacheck_fixtures import (
    BROKEN_LINE,
    EMPTY_LINE,
    LONG_LINE,
    engine_cache,  # noqa: F401  (fixture)
    offline_engine,  # noqa: F401  (fixture)
    write_broken_case,
    write_clean_case,
)

REPORT = {
    "schema": 1,
    "profile": "demo",
    "engine": "sft",
    "source": "/data/d.jsonl",
    "ok": False,
    "rows": 3,
    "size_bytes": 1234,
    "encoding": "UTF-8",
    "file_kind": "jsonl",
    "columns": ["prompt", "completion"],
    "mapping": {"prompt": "prompt", "completion": "completion"},
    "format": "prompt-completion",
    "format_reason": "detected from the columns 'prompt' + 'completion'",
    "tokenizer": {"source": "x", "offline": False, "chat_template": None, "note": ""},
    "token_lengths": {
        "of": "sequence",
        "limit": 8,
        "p50": 6,
        "p95": 11,
        "max": 12,
        "mean": 7.0,
        "histogram": [
            {"lo": 0, "hi": 4, "count": 1},
            {"lo": 4, "hi": 8, "count": 1},
            {"lo": 8, "hi": 12, "count": 1},
        ],
        "over_limit": 1,
        "tokens_lost": 4,
    },
    "findings": [
        {
            "id": "data_truncated",
            "severity": "warning",
            "lines": [3],
            "count": 1,
            "detail": "1 of 3 rows is longer than max_seq_length = 8",
            "fix": "raise [model] max_seq_length",
        }
    ],
    "preview": [
        {
            "line": 1,
            "tokens": 6,
            "trained_tokens": 2,
            "segments": [
                {"text": "Question one?", "trained": False},
                {"text": " Answer one.", "trained": True},
            ],
            "cut_text": "",
        }
    ],
}


def _printed(report=REPORT) -> str:
    out = io.StringIO()
    print_report(report, file=out)
    return out.getvalue()


def test_rows_are_line_numbers():
    assert parse_rows("3,17") == [3, 17]
    assert parse_rows(None) == []
    assert parse_rows("three") is None and parse_rows("0") is None


def test_without_colour_the_trained_text_is_marked_apart_from_the_masked(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    text = _printed()
    assert "Question one?« Answer one.»" in text
    assert "trained text «between guillemets», masked text bare" in text


def test_with_colour_the_trained_text_is_underlined_and_the_masked_dim(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    text = _printed()
    assert "«" not in text
    assert "\x1b[2mQuestion one?" in text  # dim
    assert "\x1b[4;32m" in text.split("Question one?")[1].split("Answer one.")[0]  # underlined


def test_the_histogram_marks_the_limit_and_the_facts_are_listed():
    text = _printed()
    chart = data_view.histogram_chart(REPORT["token_lengths"], 64)
    assert chart.rows[-1].count("│") == 1 and chart.axis.startswith("0")
    assert "│8" in chart.axis
    for row in chart.rows:
        assert row in text
    assert "p50 6 · p95 11 · max 12; 1 rows over 8 (4 tokens cut)" in text
    assert "prompt-completion — detected from the columns 'prompt' + 'completion'" in text
    assert "! warning  data_truncated  line 3" in text
    assert "fix: raise [model] max_seq_length" in text


def test_row_text_from_the_file_is_escaped_and_its_secrets_redacted():
    token = "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7"
    report = json.loads(json.dumps(REPORT))
    report["preview"][0]["segments"][0]["text"] = f"\x1b[2J clear {token}"
    text = _printed(report)
    assert "\x1b[2J" not in text and "^[[2J clear" in text
    assert token not in text


def test_offline_the_report_says_so_and_still_shows_the_file():
    report = dict(REPORT, token_lengths=None, preview=[{"line": 1, "row": {"prompt": "Hi"}}])
    report["tokenizer"] = {"offline": True, "note": "no tokenizer for 'x'; hf download x"}
    text = _printed(report)
    assert "No tokenizer on this machine: no tokenizer for 'x'; hf download x" in text
    assert "read     3 rows · 1.2 kB · UTF-8 · jsonl" in text
    assert '{"prompt": "Hi"}' in text


def test_an_unknown_profile_or_bad_rows_exit_2_with_the_fix(capsys):
    assert data_main("no-such-profile-anywhere", False) == 2
    assert "`cockpit profiles` lists them" in capsys.readouterr().err
    assert data_main("tiny-demo-cpu", False, "x,y") == 2
    assert "--rows takes line numbers like 3,17" in capsys.readouterr().err


def test_a_missing_training_interpreter_is_named_before_any_process(tmp_path):
    profile = write_clean_case(tmp_path)
    text = profile.read_text(encoding="utf-8").replace('python = ""', 'python = "/nowhere/python"')
    profile.write_text(text, encoding="utf-8")
    report, error = run_data_check(profile)
    assert report is None and "no interpreter /nowhere/python" in error


def test_the_cache_key_follows_the_data_and_the_profile(tmp_path):
    profile = write_clean_case(tmp_path)
    first = cache_key(profile, sys.executable, (), 3)
    assert first == cache_key(profile, sys.executable, (), 3)
    data = tmp_path / "clean.jsonl"
    data.write_text(data.read_text(encoding="utf-8") + '{"prompt": "a", "completion": "b"}\n')
    second = cache_key(profile, sys.executable, (), 3)
    assert second != first
    profile.write_text(profile.read_text().replace("max_seq_length = 256", "max_seq_length = 9"))
    assert cache_key(profile, sys.executable, (), 3) not in (first, second)
    assert cache_key(profile, sys.executable, (5,), 3) != cache_key(profile, sys.executable, (), 3)


def _cockpit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "data", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.usefixtures("offline_engine")
def test_cockpit_data_shows_a_broken_file_and_exits_1(tmp_path):
    profile = write_broken_case(tmp_path)
    done = _cockpit(str(profile), "--rows", str(LONG_LINE))
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert f"✗ error    data_malformed_line  line {BROKEN_LINE}" in out
    assert f"✗ error    data_empty_field  line {EMPTY_LINE}" in out
    assert "! warning  data_truncated  lines 4, 5, 6" in out
    assert "│64" in out and "rows over 64" in out
    assert f"line {LONG_LINE} · " in out and "(asked for)" in out
    assert "Explain item 0 briefly.«word0 word1 word2 word3 word4<|end|>»" in out
    assert "✂ cut at the limit, never seen:  word22" in out
    assert "\x1b[" not in out  # a pipe gets no escape sequences


@pytest.mark.slow
@pytest.mark.usefixtures("offline_engine")
def test_cockpit_data_json_is_the_engines_object_and_is_cached(tmp_path):
    profile = write_broken_case(tmp_path)
    done = _cockpit(str(profile), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    engine = subprocess.run(
        [sys.executable, "-m", "engines", "data", str(profile), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report == json.loads(engine.stdout)
    assert {f["id"] for f in report["findings"]} == {
        "data_malformed_line",
        "data_empty_field",
        "data_truncated",
    }
    assert len(list(cache_dir().glob("*.json"))) >= 1  # the next check reads it back


@pytest.mark.slow
@pytest.mark.usefixtures("offline_engine")
def test_a_clean_profile_exits_0(tmp_path):
    done = _cockpit(str(write_clean_case(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "✓ no findings" in done.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("offline_engine")
def test_a_cancelled_check_ends_its_process_at_once(tmp_path):
    profile = write_broken_case(tmp_path)
    answer: list = []
    worker = threading.Thread(
        target=lambda: answer.append(run_data_check(profile, cancelled=lambda: True))
    )
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert answer == [(None, "cancelled")]
