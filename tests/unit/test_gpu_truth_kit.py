"""The GPU truth kit's CPU-safe parts: its grid within the time budget and the installed
packages, the profile each case stands for, and the records it appends (the GPU run itself
is tests/gpu, marked `gpu`)."""

from __future__ import annotations

import json

import pytest

from cockpit.profiles.validate import parse_profile, profile_to_raw
from cockpit.vram import measurements
from tests.gpu import truth_kit
from tests.gpu.truth_kit import Case

MEASURED = {
    "allocated_bytes": 5 * 1024**3,
    "reserved_bytes": 6 * 1024**3,
    "gpu_name": "NVIDIA H100 80GB HBM3",
    "steps": 3,
    "versions": {"torch": "2.9.0"},
}


def test_the_full_grid_covers_methods_backends_lengths_batches_and_grpo():
    cases, skipped = truth_kit.grid({"trl", "bitsandbytes", "unsloth"}, budget_s=10_000)
    assert not skipped
    assert {c.method for c in cases} == {"lora", "qlora", "full"}
    assert {c.backend for c in cases} == {"peft", "unsloth"}
    assert {c.engine for c in cases} == {"sft", "grpo"}
    assert min(c.seq for c in cases) == 384 and max(c.seq for c in cases) == 4096
    assert {c.batch for c in cases} >= {1, 2, 4}
    assert sum(c.seconds for c in cases) < 600  # one prepared script, under 10 minutes


def test_missing_packages_and_the_budget_leave_cases_out_and_say_why():
    cases, skipped = truth_kit.grid(set(), budget_s=10_000)
    assert {c.method for c in cases} == {"lora", "full"} and {c.engine for c in cases} == {"sft"}
    assert any("qlora" in s and "bitsandbytes not installed" in s for s in skipped)
    assert any(s.startswith("grpo-") and "trl not installed" in s for s in skipped)
    short, over = truth_kit.grid(set(), budget_s=40)
    assert sum(c.seconds for c in short) <= 40 and any("over the 40 s budget" in s for s in over)


@pytest.mark.parametrize("case", truth_kit.grid({"trl", "bitsandbytes", "unsloth"}, 1e9)[0])
def test_every_case_is_a_valid_profile_the_estimator_knows(case):
    profile, problems = parse_profile(profile_to_raw(truth_kit.case_profile(case)))
    assert profile is not None, problems
    record = truth_kit.record_for(case, MEASURED, gpu_gib=80.0)
    assert record["source"] == "truth-kit" and record["case"]["model"] == case.model
    assert record["method"] == case.method and record["backend"] == case.backend
    assert record["estimated_allocated_gib"] > 0


def test_records_are_appended_one_json_line_each(tmp_path):
    out = tmp_path / "data" / "truth.jsonl"
    case = Case("Qwen/Qwen2.5-0.5B", "qlora", 1024, 2)
    records = [truth_kit.record_for(case, MEASURED, 24.0) for _ in range(2)]
    truth_kit.append_records(records, out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2 and lines[0]["quantization"] == "4bit"
    assert (lines[0]["measured_allocated_gib"], lines[0]["measured_reserved_gib"]) == (5.0, 6.0)


def test_an_unknown_source_is_refused():
    with pytest.raises(ValueError, match="source must be one of probe, truth-kit"):
        measurements.measurement_record(
            truth_kit.case_profile(Case("Qwen/Qwen2.5-0.5B", "lora", 512, 1)),
            object(),
            MEASURED,
            source="guess",
        )
