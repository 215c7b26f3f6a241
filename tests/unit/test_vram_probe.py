"""`cockpit estimate PROFILE --probe`: refused without CUDA (exit 2, said), the measured peaks
beside the estimate's (allocated with allocated, reserved with reserved), the record the
calibration reads; and the engine side's row choice and settings (no GPU needed)."""

from __future__ import annotations

import io
import json

import pytest
import tomli_w

from cockpit.cli import main as cli_main
from cockpit.cli import probe as cli
from cockpit.vram import measurements, probe_client
from cockpit.vram.probe_client import ProbeFailed, ProbeReport, parse_report
from engines import probe as engine_probe
from engines.profile_schema import profile_from_dict

RAW = {
    "name": "qwen toy",
    "engine": "sft",
    "model": {"name_or_path": "Qwen/Qwen2.5-0.5B-Instruct", "max_seq_length": 1024},
    "lora": {"r": 16, "alpha": 32},
    "train": {"batch_size": 2, "grad_accum": 4, "max_steps": 100, "save_steps": 25},
    "data": {"eval_fraction": 0.1},
}
GIB = 1024**3
REPORT = {
    "allocated_bytes": int(3.0 * GIB),
    "reserved_bytes": int(3.5 * GIB),
    "gpu_name": "NVIDIA GeForce RTX 3060",
    "gpu_total_bytes": 12 * GIB,
    "steps": 3,
    "rows": 24,
    "shortest_row_tokens": 700,
    "engine": "sft",
    "backend": "peft",
    "precision": "bf16",
    "versions": {"torch": "2.9.0", "trl": "1.16.0"},
    "seconds": 12.5,
}


@pytest.fixture
def profile_file(tmp_path, monkeypatch):
    monkeypatch.setenv(measurements.MEASUREMENTS_ENV, str(tmp_path / "m.jsonl"))
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(RAW))
    return path


def _gpu(monkeypatch, present: bool) -> None:
    monkeypatch.setattr(cli, "_gpu_present", lambda: present)


def test_without_cuda_the_probe_says_so_and_exits_2(profile_file, monkeypatch, capsys):
    _gpu(monkeypatch, False)
    started = []
    monkeypatch.setattr(probe_client, "run_probe", lambda *a, **k: started.append(a))
    code = cli_main.main(["estimate", str(profile_file), "--probe"])
    assert code == 2 and not started
    assert "--probe: no CUDA GPU here" in capsys.readouterr().err


def test_a_training_interpreter_without_cuda_is_refused_the_same_way(
    profile_file, monkeypatch, capsys
):
    """An NVIDIA card, but a CPU-only torch in the training interpreter: the engine's exit 2."""
    _gpu(monkeypatch, True)

    def no_cuda(*args, **kwargs):
        raise ProbeFailed("no CUDA GPU here (torch 2.9.0+cpu sees none)", no_cuda=True)

    monkeypatch.setattr(probe_client, "run_probe", no_cuda)
    assert cli.probe_named(str(profile_file), None, 3, False) == 2
    assert "no CUDA GPU here" in capsys.readouterr().err


def _measured(monkeypatch, report: dict, code: int = 0) -> list:
    _gpu(monkeypatch, True)
    calls = []

    def fake(path, python, steps):
        calls.append((str(path), python, steps))
        return parse_report(json.dumps(report), code)

    monkeypatch.setattr(probe_client, "run_probe", fake)
    return calls


def test_measured_peaks_are_shown_beside_the_estimate_and_recorded(profile_file, monkeypatch):
    calls = _measured(monkeypatch, REPORT)
    out = io.StringIO()
    assert cli.probe_named(str(profile_file), None, 5, False, out) == 0
    assert calls == [(str(profile_file), None, 5)]
    text = out.getvalue()
    assert "probe, 3 steps on NVIDIA GeForce RTX 3060 (peft, bf16), the 24 longest rows" in text
    assert "peak allocated" in text and "3.00 GiB" in text and "3.50 GiB" in text
    lines = (profile_file.parent / "m.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["source"] == "probe" and record["profile"] == "qwen toy"
    assert (record["method"], record["backend"], record["quantization"]) == ("lora", "peft", "none")
    assert (record["measured_allocated_gib"], record["measured_reserved_gib"]) == (3.0, 3.5)
    assert record["versions"] == {"torch": "2.9.0", "trl": "1.16.0"}
    assert 0 < record["estimated_allocated_gib"] < record["estimated_reserved_gib"]
    assert record["estimated_reserved_gib"] < record["estimate_gib"]
    assert f"recorded for calibration in {profile_file.parent / 'm.jsonl'}" in text


def test_the_calibration_reads_the_record_back(profile_file, monkeypatch):
    history = pytest.importorskip("cockpit.vram.history")
    _measured(monkeypatch, REPORT)
    cli.probe_named(str(profile_file), None, 3, True, io.StringIO())
    (sample,) = history.probe_samples(profile_file.parent / "m.jsonl")
    assert sample.gpu_name == "NVIDIA GeForce RTX 3060" and sample.measured_allocated_gib == 3.0


def test_an_out_of_memory_probe_exits_4_and_is_not_recorded(profile_file, monkeypatch):
    _measured(monkeypatch, {**REPORT, "error": "out of memory: CUDA out of memory."}, code=3)
    out = io.StringIO()
    assert cli.probe_named(str(profile_file), None, 3, False, out) == 4
    assert "lower bound" in out.getvalue() and "not recorded" in out.getvalue()
    assert not (profile_file.parent / "m.jsonl").exists()


def test_a_report_without_measurements_is_a_failure():
    with pytest.raises(ProbeFailed) as caught:
        parse_report('noise\n{"error": "no CUDA GPU here"}', 2)
    assert caught.value.no_cuda
    with pytest.raises(ProbeFailed, match="printed no report"):
        parse_report("Traceback ...", 0)
    assert isinstance(parse_report(json.dumps(REPORT), 0), ProbeReport)


def test_the_engine_takes_the_longest_rows_for_k_steps_without_saving():
    assert engine_probe.longest_rows([5, 90, 12, 90, 40], 3) == [1, 3, 4]
    assert engine_probe.longest_rows([1, 2], 10) == [1, 0]
    profile = profile_from_dict(RAW)
    assert engine_probe.rows_needed(profile, 3) == 3 * 2 * 4
    probed = engine_probe.probe_settings(profile, 3)
    assert (probed.train.max_steps, probed.train.save_steps) == (3, 0)
    assert probed.data.eval_fraction == 0.0 and probed.lora == profile.lora


def test_the_engine_probe_refuses_without_cuda(tmp_path, capsys):
    """Here torch is a CPU build: `python -m engines probe` exits 2 and says why."""
    path = tmp_path / "p.toml"
    path.write_text(tomli_w.dumps(RAW))
    assert engine_probe.main(str(path), 3, as_json=True) == 2
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["error"].startswith(
        "no CUDA GPU here"
    )
