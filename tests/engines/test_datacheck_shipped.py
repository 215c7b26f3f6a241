"""The data check on every shipped profile: each reads, maps and passes (warnings at most).

A shipped profile whose data the check refused would be refused by pre-flight too: the
first run a new user starts must not be one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.datacheck import Options, run_check
from engines.profile_schema import read_profile
from tests.runs_helpers import REPO

SHIPPED = sorted((REPO / "profiles").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_profiles_data_passes_the_check(path: Path):
    report = run_check(read_profile(path), (path.parent,), Options(limit=1))
    assert report["ok"], report["findings"]
    assert report["rows"] > 0 and report["format"] in ("chat", "prompt-completion")
    assert all(f["severity"] == "warning" for f in report["findings"])
    tokenizer = report["tokenizer"] or {}
    if not tokenizer.get("offline"):  # the tiny model's tokenizer is always here
        assert report["token_lengths"]["max"] <= report["max_seq_length"]
    assert report["preview"], "the first row is previewed"
