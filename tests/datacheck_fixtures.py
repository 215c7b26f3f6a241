"""Data files and profiles for the tests of `cockpit data` and the Data place.

`write_broken_case` builds a prompt/completion file the tiny demo model's profile reads
with a short `max_seq_length`: rows that are cut at the limit (a truncation warning), one
empty completion and one malformed line (two errors), so one check shows every part of the
report. `engine_cache` gives the engine processes a private tiny-model cache.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "profiles" / "tiny-demo-cpu.toml"
BROKEN_LINE = 42
EMPTY_LINE = 41
LONG_LINE = 30
"""A row longer than the limit (its tail is cut)."""


def pc_rows(count: int = 40) -> list[dict[str, str]]:
    """Prompt/completion rows whose answers grow from 5 to 64 words."""
    return [
        {
            "prompt": f"Explain item {i} briefly.",
            "completion": " ".join(f"word{j}" for j in range(5 + (i * 7) % 60)),
        }
        for i in range(count)
    ]


def write_broken_case(folder: Path, max_seq_length: int = 64, name: str = "broken") -> Path:
    """A profile (returned) and its data: 40 good rows, an empty completion on line 41, a
    malformed line 42; with max_seq_length 64 most rows are cut."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.jsonl"
    lines = [json.dumps(r) for r in pc_rows()]
    lines += [json.dumps({"prompt": "Say nothing.", "completion": ""}), '{"prompt": "bad", ']
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return write_profile(folder / f"{name}.toml", data, max_seq_length, fmt="auto")


def write_clean_case(folder: Path, name: str = "clean") -> Path:
    """A profile whose prompt/completion data has no finding (every row fits in 256)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in pc_rows(12)), encoding="utf-8")
    return write_profile(folder / f"{name}.toml", data, 256, fmt="auto")


def write_profile(path: Path, data: Path, max_seq_length: int, fmt: str = "auto") -> Path:
    """The tiny demo profile pointed at `data` with this limit and format."""
    text = TINY.read_text(encoding="utf-8")
    text = text.replace('path = "data/demo.jsonl"', f'path = "{data.as_posix()}"')
    text = text.replace('format = "chat"', f'format = "{fmt}"')
    text = text.replace("max_seq_length = 256", f"max_seq_length = {max_seq_length}")
    text = text.replace('name = "tiny-demo-cpu"', f'name = "{path.stem}"')
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def engine_cache(tmp_path_factory) -> Path:
    """A cache folder for the session's engine processes (the tiny model is built there
    once) and for cockpit's data-check reports."""
    return tmp_path_factory.mktemp("data-engine-cache")


@pytest.fixture
def offline_engine(engine_cache, monkeypatch) -> Path:
    """Engine processes started by this test are offline and use the session's cache."""
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(engine_cache))
    for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(key, "1")
    monkeypatch.setenv("HF_HOME", str(engine_cache / "hf"))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    from cockpit.runs.datacheck import clear_memory_cache

    clear_memory_cache()
    return engine_cache
