"""The report's memory table compares like with like: allocated with allocated, reserved
with reserved, and the estimated total with the card the engine trained on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.report.build import build_report
from cockpit.runs.runjson import update_meta
from cockpit.runs.store import create_run
from cockpit.vram.estimate import estimate
from engines.profile_schema import read_profile
from tests.runs_helpers import REPO

GIB = 1024**3
NOON = 1_795_000_000.0
PROFILE = REPO / "profiles/rtx3050-4gb-llama-3.2-3b-qlora.toml"


@pytest.fixture(autouse=True)
def _runs_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(tmp_path / "runs"))


def _cuda_run(tmp_path: Path, **start_extra) -> str:
    text = PROFILE.read_text()
    data = json.dumps(str(REPO / "profiles/data/demo.jsonl"))
    path = tmp_path / "qlora.toml"
    path.write_text(text.replace('"data/demo.jsonl"', data))  # gpu_memory_gib = 0: detected
    run = create_run(path, now=NOON)
    update_meta(run.run_json, pid=999_999, exit_code=0, ended=NOON + 60)
    events = [
        {"t": NOON + 1, "kind": "start", "steps": 2, "device": "cuda:0", **start_extra},
        {"t": NOON + 2, "kind": "step", "step": 1, "loss": 1.0,
         "peak_mem_bytes": int(3.0 * GIB), "peak_reserved_bytes": int(3.3 * GIB)},
        {"t": NOON + 3, "kind": "step", "step": 2, "loss": 0.9,
         "peak_mem_bytes": int(3.1 * GIB), "peak_reserved_bytes": int(3.5 * GIB)},
        {"t": NOON + 4, "kind": "end", "status": "finished", "steps_done": 2},
    ]  # fmt: skip
    run.events.write_text("".join(json.dumps(e) + "\n" for e in events))
    report = build_report(run, doctor_findings=[], now=NOON + 120)
    return report.split("## Profile and memory\n", 1)[1].split("\n## ", 1)[0]


def test_reserved_is_compared_with_reserved_and_allocated_with_allocated(tmp_path) -> None:
    memory = _cuda_run(tmp_path, gpu_name="NVIDIA GeForce RTX 3050 Laptop GPU")
    est = estimate(read_profile(PROFILE))
    rows = [
        f"| estimated peak reserved (allocator cache included) | {est.peak_reserved_gib:.2f} |",
        "| measured peak allocated (largest `peak_mem_bytes` of the steps) | 3.10 |",
        f"| difference (measured − estimated peak allocated) | {3.1 - est.peak_allocated_gib:+.2f}",
        "| measured peak reserved (largest `peak_reserved_bytes` of the steps) | 3.50 |",
        f"| difference (measured − estimated peak reserved) | {3.5 - est.peak_reserved_gib:+.2f}",
    ]
    assert all(row in memory for row in rows), memory
    assert f"{3.1 - est.total_gib:+.2f}" not in memory  # never allocated against the total


def test_the_card_the_engine_recorded_judges_the_total(tmp_path) -> None:
    memory = _cuda_run(tmp_path, gpu_total_bytes=int(4.0 * GIB))
    est = estimate(read_profile(PROFILE), 4.0)
    assert f"Card: 4 GiB ({est.usable_gib:.2f} usable); the estimated total is" in memory
    assert f"{est.total_gib / 4.0:.0%} of it; estimate verdict: {est.verdict}." in memory
    assert "whose size the run did not record" not in memory


def test_an_engine_that_recorded_no_card_leaves_the_verdict_out(tmp_path) -> None:
    memory = _cuda_run(tmp_path)
    assert "whose size the run did not record" in memory
    assert "peak_reserved_bytes" in memory
