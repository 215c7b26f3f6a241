"""Calibration from the user's own runs: applied, shown, bounded, and never from < 2 runs.

Synthetic run histories (tests/vram_history.py) are run folders as an engine leaves them:
a frozen profile, a start event naming the GPU, steps with torch's peaks, an end.
"""

from __future__ import annotations

import io
import json

import pytest
import tomli_w

from cockpit.cli import estimate as cli
from cockpit.runs.runjson import read_meta
from cockpit.runs.store import create_run
from cockpit.vram.calibration import FACTOR_BOUNDS, fit
from cockpit.vram.estimate import estimate
from cockpit.vram.history import run_samples, user_history
from cockpit.vram.measurements import PROBE_FILE
from engines.profile_schema import profile_from_dict
from tests.vram_history import GPU, SEED, estimated_allocated_gib, finished_run, history_of

PROFILE = profile_from_dict(SEED)


@pytest.fixture(autouse=True)
def _nothing_of_the_users(tmp_path, monkeypatch) -> None:
    """No run folder or probe record of the machine's user reaches a test."""
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(tmp_path / "user-runs"))
    monkeypatch.setenv("COCKPIT_VRAM_MEASUREMENTS", str(tmp_path / "user-probes.jsonl"))


def _estimate(root, gpu_gib: float = 12.0, gpu: str = GPU):
    return estimate(PROFILE, gpu_gib, history=user_history(gpu, root))


def test_fewer_than_two_runs_give_no_calibration(tmp_path) -> None:
    history_of(tmp_path, [1.3])
    plain = estimate(PROFILE, 12.0)
    result = _estimate(tmp_path)
    assert result.calibration is None and result.to_json()["calibration"] is None
    assert result.total_gib == plain.total_gib
    assert "calibration" not in result.breakdown()


def test_three_runs_twenty_percent_over_raise_the_estimate_and_say_so(tmp_path) -> None:
    history_of(tmp_path, [1.2, 1.2, 1.2])
    plain = estimate(PROFILE, 12.0)
    result = _estimate(tmp_path)
    assert result.calibration is not None
    assert result.calibration.runs == 3
    assert result.peak_allocated_gib == pytest.approx(1.2 * plain.peak_allocated_gib)
    assert result.total_gib == pytest.approx(plain.total_gib + 0.2 * plain.peak_allocated_gib)
    assert result.breakdown()["calibration"] > 0
    assert "calibrated on 3 of your runs, residual 0 %" in result.calibration.text()
    assert result.to_json()["calibration"]["factor"] == pytest.approx(1.2)


def test_the_corrected_total_decides_the_verdict(tmp_path) -> None:
    plain = estimate(PROFILE, 12.0)
    card = plain.high_gib * 1.02 + PROFILE.hardware.reserve_gib  # fits as estimated
    history_of(tmp_path, [1.3, 1.3])
    assert estimate(PROFILE, card).verdict == "fits"
    result = _estimate(tmp_path, card)
    assert result.verdict in ("tight", "won't fit")
    assert result.suggestions  # found for the corrected verdict
    raw = {s.change: s.total_gib for s in estimate(PROFILE, card * 0.8).suggestions}
    corrected = {s.change: s.total_gib for s in result.suggestions}
    assert all(corrected[c] > raw[c] for c in corrected.keys() & raw.keys())


def test_one_outlier_among_three_does_not_move_the_factor(tmp_path) -> None:
    history_of(tmp_path, [1.1, 1.1, 1.9])
    assert _estimate(tmp_path).calibration.factor == pytest.approx(1.1)


def test_the_correction_is_bounded_both_ways(tmp_path) -> None:
    history_of(tmp_path / "high", [1.9, 1.95])
    high = _estimate(tmp_path / "high").calibration
    assert (high.factor, high.clamped) == (FACTOR_BOUNDS[1], True)
    assert "(bounded)" in high.text()
    history_of(tmp_path / "low", [0.6, 0.62])
    assert _estimate(tmp_path / "low").calibration.factor == FACTOR_BOUNDS[0]
    history_of(tmp_path / "absurd", [4.0, 4.0, 1.0])  # not the estimator's error: dropped
    assert _estimate(tmp_path / "absurd").calibration is None


def test_only_finished_cuda_runs_on_the_same_gpu_and_backend_count(tmp_path) -> None:
    finished_run(tmp_path, "other-gpu-1", 1.3, gpu="NVIDIA GeForce RTX 4090")
    finished_run(tmp_path, "other-gpu-2", 1.3, gpu="NVIDIA GeForce RTX 4090")
    finished_run(tmp_path, "cpu", 1.3, device="cpu")
    finished_run(tmp_path, "oom", 1.3, status="failed")
    unsloth = SEED | {"model": SEED["model"] | {"backend": "unsloth"}}
    finished_run(tmp_path, "unsloth-1", 1.3, raw=unsloth)
    finished_run(tmp_path, "unsloth-2", 1.3, raw=unsloth)
    finished_run(tmp_path, "mine", 1.3)
    assert _estimate(tmp_path).calibration is None  # one run of this GPU + backend
    assert _estimate(tmp_path, gpu="NVIDIA GeForce RTX 4090").calibration.runs == 2


def test_a_run_with_an_unreadable_profile_uses_the_estimate_recorded_at_launch(tmp_path) -> None:
    for i in range(2):
        run = finished_run(tmp_path, f"r{i}", 1.25)
        (run / "profile.toml").write_text("not toml [")
        record = {
            "peak_allocated_gib": estimated_allocated_gib(),
            "peak_reserved_gib": estimated_allocated_gib() + 0.3,
            "backend": "peft",
            "method": "qlora",
            "quantization": "4bit",
        }
        (run / "run.json").write_text(json.dumps({"version": 1, "estimate": record}))
    assert _estimate(tmp_path).calibration.factor == pytest.approx(1.25)


def test_probe_records_count_as_samples(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_VRAM_MEASUREMENTS", str(tmp_path / PROBE_FILE))
    finished_run(tmp_path, "one-run", 1.2)
    record = {
        "source": "probe",
        "gpu_name": GPU,
        "backend": "peft",
        "method": "qlora",
        "quantization": "4bit",
        "estimated_allocated_gib": 4.0,
        "estimated_reserved_gib": 4.4,
        "measured_allocated_gib": 4.8,
        "measured_reserved_gib": 5.3,
    }
    (tmp_path / PROBE_FILE).write_text(json.dumps(record) + "\nnot json\n")
    result = _estimate(tmp_path)
    assert result.calibration.runs == 2 and result.calibration.factor == pytest.approx(1.2)


def test_samples_carry_allocated_and_reserved_peaks(tmp_path) -> None:
    finished_run(tmp_path, "r", 1.0, reserved_extra_gib=0.5)
    (sample,) = run_samples(tmp_path)
    assert sample.measured_allocated_gib == pytest.approx(estimated_allocated_gib(), abs=1e-6)
    assert sample.measured_reserved_gib == pytest.approx(sample.measured_allocated_gib + 0.5)
    assert (sample.gpu_name, sample.backend, sample.method) == (GPU, "peft", "qlora")


def test_fit_prefers_the_same_method_when_there_are_enough(tmp_path) -> None:
    full = SEED | {"lora": None, "model": SEED["model"] | {"quantization": "none"}}
    full = {k: v for k, v in full.items() if v is not None}
    history_of(tmp_path / "a", [1.4, 1.4], raw=full)
    finished_run(tmp_path / "a", "q1", 1.1, t=1.0)
    finished_run(tmp_path / "a", "q2", 1.1, t=2.0)
    samples = run_samples(tmp_path / "a")
    same = fit(samples, GPU, "peft", "qlora", "4bit")
    assert (same.factor, same.scope) == (pytest.approx(1.1), "method")
    lora = fit(samples, GPU, "peft", "lora", "none")
    assert (lora.scope, lora.runs) == ("backend", 4)


# -- cockpit estimate ---------------------------------------------------------------------


@pytest.fixture
def on_a_3060(monkeypatch, tmp_path):
    root = tmp_path / "runs"
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(root))
    monkeypatch.setattr(cli, "detected_gpu_gib", lambda: 11.66)
    monkeypatch.setattr(cli, "detected_gpu_name", lambda: GPU)
    return root


def _cli(tmp_path, as_json: bool, **kwargs) -> str:
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(SEED))
    out = io.StringIO()
    cli.estimate_main(str(path), None, False, as_json, out=out, **kwargs)
    return out.getvalue()


def test_cockpit_estimate_shows_the_calibration_and_no_calibration_turns_it_off(
    tmp_path, on_a_3060
) -> None:
    history_of(on_a_3060, [1.1, 1.15, 1.2])
    text = _cli(tmp_path, False)
    assert "calibrated on 3 of your runs, residual 4 %" in text
    assert "correction from 3 of your runs (×1.15)" in text
    assert "calibrated" not in _cli(tmp_path, False, calibration=False)
    data = json.loads(_cli(tmp_path, True))
    assert data["calibration"]["runs"] == 3 and data["breakdown"]["calibration"] > 0
    assert json.loads(_cli(tmp_path, True, calibration=False))["calibration"] is None


def test_cockpit_estimate_does_not_calibrate_a_card_it_was_told(tmp_path, on_a_3060) -> None:
    history_of(on_a_3060, [1.2, 1.2])
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(SEED))
    out = io.StringIO()
    cli.estimate_main(str(path), 24.0, False, True, out=out)
    assert json.loads(out.getvalue())["calibration"] is None


def test_the_parser_takes_no_calibration() -> None:
    from cockpit.cli.parser import build_parser

    args = build_parser().parse_args(["estimate", "p.toml", "--no-calibration"])
    assert args.no_calibration is True


# -- the record at launch -------------------------------------------------------------------


def test_a_new_run_records_the_estimate_at_launch(tmp_path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(SEED))
    run = create_run(path, root=tmp_path / "runs")
    record = read_meta(run.run_json)["estimate"]
    plain = estimate(PROFILE)
    assert record["peak_allocated_gib"] == pytest.approx(plain.peak_allocated_gib, abs=1e-3)
    assert record["peak_reserved_gib"] == pytest.approx(plain.peak_reserved_gib, abs=1e-3)
    assert record["total_gib"] == pytest.approx(plain.total_gib, abs=1e-3)
    assert (record["backend"], record["method"], record["quantization"]) == (
        "peft",
        "qlora",
        "4bit",
    )


def test_cockpit_estimate_reads_the_runs_folder_settings_name(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_RUNS_DIR", "")  # unset, and restored after the test
    monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(cli, "detected_gpu_gib", lambda: 11.66)
    monkeypatch.setattr(cli, "detected_gpu_name", lambda: GPU)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(f'runs_dir = "{tmp_path / "mine"}"\n')
    history_of(tmp_path / "mine", [1.2, 1.2])
    assert json.loads(_cli(tmp_path, True))["calibration"]["runs"] == 2
