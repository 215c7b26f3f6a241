"""How the Runs place says why a run ended: the known cause nearest the end of its log, and
when no known cause explains it, the unrecognized failure (never silence over a traceback)."""

from __future__ import annotations

import shutil
from pathlib import Path

from cockpit.runs.endings import known_problem
from cockpit.runs.status import RunSummary

LOGS = Path(__file__).with_name("knowledge_logs")


def _failed_run(tmp_path: Path, log: str) -> RunSummary:
    run = tmp_path / "20261206-120000-demo"
    run.mkdir()
    shutil.copy(LOGS / log, run / "output.log")
    return RunSummary(id=run.name, run_dir=run, status="failed")


def test_a_log_ending_in_an_unknown_traceback_names_the_failure(tmp_path):
    found = known_problem(_failed_run(tmp_path, "unknown_collate_keyerror.log"))
    assert found is not None and found.id == "unrecognized_error"
    assert "KeyError" in found.excerpt


def test_a_known_cause_wins_over_the_unrecognized_fallback(tmp_path):
    run = _failed_run(tmp_path, "unknown_collate_keyerror.log")
    with open(run.run_dir / "output.log", "a") as log:
        log.write("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n")
    assert known_problem(run).id == "cuda_oom"


def test_a_clean_log_has_no_problem(tmp_path):
    assert known_problem(_failed_run(tmp_path, "clean_cockpit_sft_engine.log")) is None
