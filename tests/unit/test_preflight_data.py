"""Pre-flight runs the data check: a malformed line is refused before any model loads.

Seen: a JSONL file with one malformed line passed the pre-flight ("✓ ready to start"),
loaded a model and crashed with `DatasetGenerationError`, the useful words ("row 16:
Missing a comma") on line 3 of an 84-line log.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.cli.train import train_main
from cockpit.runs.preflight import EXIT_INVALID, preflight
from tests.runs_helpers import TINY

pytest_plugins = ["tests.runs_fixtures"]


def _profile(tmp_path: Path, rows: list[str]) -> Path:
    data = tmp_path / "chat.jsonl"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    text = TINY.read_text(encoding="utf-8").replace('"data/demo.jsonl"', json.dumps(str(data)))
    assert str(data) in text
    path = tmp_path / "bad-data.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _rows(count: int = 40) -> list[str]:
    return [
        json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                 {"role": "assistant", "content": f"a{i}"}]})
        for i in range(count)
    ]  # fmt: skip


def _malformed(tmp_path: Path) -> Path:
    rows = _rows()
    rows[15] = '{"messages": [{"role": "user" "content": "a missing comma"}]}'
    return _profile(tmp_path, rows)


@pytest.mark.slow  # starts `python -m engines data --quick`
def test_a_malformed_line_is_refused_with_its_line_and_fix(tmp_path):
    check = preflight(_malformed(tmp_path), gpus=(), hub_probe=None)
    assert not check.ok and check.exit_code == EXIT_INVALID
    (refusal,) = check.refusals
    assert refusal.key == "data.path" and refusal.kind == "datacheck"
    assert "data_malformed_line" in refusal.message and "line 16" in refusal.message
    assert "Expecting ',' delimiter" in refusal.message
    assert "fix or delete these lines" in refusal.fix
    assert "--force to start anyway" in refusal.fix


@pytest.mark.slow
def test_force_starts_it_warned(tmp_path):
    check = preflight(_malformed(tmp_path), gpus=(), hub_probe=None, force=True)
    assert check.ok
    assert any("line 16" in note and "starting anyway (--force)" in note for note in check.notes)


@pytest.mark.slow
def test_cockpit_train_refuses_it_and_starts_nothing(tmp_path, runs_dir, capsys):
    code = train_main(str(_malformed(tmp_path)))
    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert "data_malformed_line" in err and "line 16" in err
    assert not runs_dir.exists() or not any(runs_dir.iterdir())  # no model was loaded


@pytest.mark.slow
def test_good_data_passes_and_its_report_is_kept_for_the_next_start(tmp_path, monkeypatch):
    profile = _profile(tmp_path, _rows())
    assert preflight(profile, gpus=(), hub_probe=None).ok
    monkeypatch.setenv("PATH", "")  # a second engine run could not even start now
    assert preflight(profile, gpus=(), hub_probe=None).ok


def _stub(findings: list[dict]):
    return lambda _path, _python, _data: ({"findings": findings}, None)


def test_warnings_start_warned_and_many_lines_are_summed_up(tmp_path):
    empty = {"id": "data_empty_field", "severity": "error", "lines": list(range(1, 101)),
             "count": 240, "detail": "240 rows have an empty assistant message.",
             "fix": "remove or fill them"}  # fmt: skip
    dupes = {"id": "data_duplicates", "severity": "warning", "lines": [3, 9], "count": 2,
             "detail": "2 rows repeat earlier ones", "fix": "drop them"}  # fmt: skip
    check = preflight(TINY, gpus=(), hub_probe=None, data_check=_stub([empty, dupes]))
    (refusal,) = check.refusals
    assert refusal.message == (
        "data_empty_field: 240 rows have an empty assistant message (lines 1, 2, 3, 4, 5 "
        "and 235 more)"
    )
    assert [w.message for w in check.warnings][-1] == (
        "data_duplicates: 2 rows repeat earlier ones (lines 3, 9)"
    )


def test_a_check_that_cannot_run_is_a_note_not_a_refusal(tmp_path):
    check = preflight(
        TINY, gpus=(), hub_probe=None, data_check=lambda _p, _py, _d: (None, "engine timed out")
    )
    assert check.ok
    assert "could not check the data: engine timed out" in check.notes
