"""`cockpit report`: the post-mortem a user would otherwise write by hand after a failed run.

Runs are fabricated in a temporary COCKPIT_RUNS_DIR (run.json, events, output.log written
directly, no process); the doctor is replaced by fixed findings, so nothing spawns.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.cli.report import report_main
from cockpit.doctor.finding import Finding
from cockpit.profiles.store import load_profile_file
from cockpit.report.build import build_report
from cockpit.runs.runjson import update_meta
from cockpit.runs.store import RunDir, create_run
from cockpit.vram.estimate import estimate
from tests.runs_helpers import REPO, TINY

pytest_plugins = ["tests.runs_fixtures"]

NOON = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC
GIB = 1024**3
HF = "hf_AbCdEfGhIjKlMnOpQrStUvWx"
SK = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"
OOM = (
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a"
    " total capacity of 3.68 GiB of which 120.00 MiB is free."
)
DOCTOR = [
    Finding("nvidia_driver", "NVIDIA driver", "fail", "No driver found.", "Install driver 550."),
    Finding("torch", "PyTorch and CUDA", "warn", "torch 2.13, CPU build.", "pip install torch"),
    Finding("platform", "Operating system", "ok", "Linux 6.8 (x86_64)."),
    Finding("python_version", "Python version", "ok", "Python 3.11.9 (torch accept it)."),
    Finding("resources", "RAM and disk headroom", "ok", f"HF_TOKEN={HF} seen in env."),
]


def _qlora_profile(tmp_path: Path) -> Path:
    """The shipped 3B QLoRA profile planned for a 4 GiB card."""
    text = (REPO / "profiles/rtx3050-4gb-llama-3.2-3b-qlora.toml").read_text()
    data = REPO / "profiles/data/demo.jsonl"
    text = text.replace('"data/demo.jsonl"', json.dumps(str(data)))
    path = tmp_path / "qlora.toml"
    path.write_text(text.replace("gpu_memory_gib = 0", "gpu_memory_gib = 4"))
    return path


def _events(run: RunDir, *events: dict, tail: str = "") -> None:
    lines = [json.dumps(e) + "\n" for e in events]
    run.events.write_text("".join(lines) + tail)


def _steps(first: int, last: int, t0: float, **extra) -> list[dict]:
    return [
        {"t": t0 + n, "kind": "step", "step": n, "loss": 2.0 - n / 100, **extra}
        for n in range(first, last + 1)
    ]


def _oom_run(tmp_path: Path) -> RunDir:
    """A QLoRA run that checkpointed at 25 and died of CUDA OOM at step 37 of 200."""
    run = create_run(_qlora_profile(tmp_path), now=NOON)
    command = f"{sys.executable} -m engines run {run.path} --token {HF}"
    update_meta(
        run.run_json, pid=999_999, exit_code=1, ended=NOON + 60, python=sys.executable,
        host="gpu-box", command_text=command,
    )  # fmt: skip
    start = {"t": NOON + 5, "kind": "start", "steps": 200, "device": "cuda:0"}
    steps = _steps(1, 37, NOON + 10, peak_mem_bytes=int(3.5 * GIB))
    checkpoint = {"t": NOON + 35.5, "kind": "checkpoint", "step": 25, "path": "x"}
    warning = {"t": NOON + 40, "kind": "message", "level": "warning", "text": f"key {SK}"}
    end = {"t": NOON + 59, "kind": "end", "status": "failed", "steps_done": 37}
    end |= {"error_class": "OutOfMemoryError", "error_message": "CUDA out of memory."}
    _events(run, start | {"backend": "unsloth"}, *steps[:25], checkpoint, *steps[25:], warning, end)
    (run.checkpoints / "checkpoint-25").mkdir(parents=True)
    log = ["Unsloth: patching", f"login with HF_TOKEN={HF}", "Traceback (most recent call last):"]
    run.output.write_text("\n".join([*log, '  File "train.py", line 3', OOM, ""]))
    return run


def _finished_cpu_run(tmp_path: Path) -> RunDir:
    run = create_run(TINY, now=NOON)
    update_meta(run.run_json, pid=999_999, exit_code=0, ended=NOON + 40, python=sys.executable)
    start = {"t": NOON + 2, "kind": "start", "steps": 30, "device": "cpu", "backend": "peft"}
    end = {"t": NOON + 38, "kind": "end", "status": "finished", "steps_done": 30}
    _events(run, start, *_steps(1, 30, NOON + 5, peak_mem_bytes=600 * 1024**2), end)
    (run.checkpoints / "checkpoint-30").mkdir(parents=True)
    run.output.write_text("loading tiny model\n{'train_loss': 1.7}\ntraining done, adapter saved\n")
    return run


def _section(report: str, title: str) -> str:
    return report.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture
def doctor_calls(monkeypatch) -> list[str | None]:
    """The real doctor replaced by DOCTOR; records the interpreter each call checks."""
    calls: list[str | None] = []

    def fake_run_doctor(python=None, **kwargs):
        calls.append(python)
        return list(DOCTOR)

    monkeypatch.setattr("cockpit.doctor.runner.run_doctor", fake_run_doctor)
    return calls


def test_a_failed_oom_run_names_the_cause_the_memory_and_how_to_retry(runs_dir, tmp_path):
    run = _oom_run(tmp_path)
    report = build_report(run, doctor_findings=DOCTOR, now=NOON + 3600)
    titles = [line for line in report.splitlines() if line.startswith("## ")]
    assert titles == [
        "## Environment", "## Profile and memory", "## Timeline", "## Findings", "## Retry"
    ]  # fmt: skip
    assert report.startswith(f"# Post-mortem: {run.id}\n")
    assert "**Verdict:** failed after 37/200 steps: CUDA out of memory (cuda_oom)" in report

    findings = _section(report, "Findings")
    assert "### 1. CUDA out of memory (`cuda_oom`), error" in findings
    assert "line 5:" in findings and "Tried to allocate 2.00 GiB" in findings
    assert "expandable_segments:True" in findings  # the catalog's fix, kept line by line
    assert "NVIDIA driver (`nvidia_driver`: fail)" in findings

    memory = _section(report, "Profile and memory")
    profile = load_profile_file(run.profile_file).profile
    expected = estimate(profile).peak_allocated_gib
    assert f"| estimated peak allocated (what torch reports) | {expected:.2f} |" in memory
    assert "| 3.50 |" in memory and f"| {3.5 - expected:+.2f} (" in memory
    assert "Card: 4 GiB" in memory

    timeline = _section(report, "Timeline")
    assert "| 2026-11-18T11:06:45+00:00 | +00:05 | started: 200 steps, device cuda:0" in timeline
    assert (
        "first step: step 1/200" in timeline and "last step: step 37/200, loss 1.6300" in timeline
    )
    assert "checkpoint at step 25" in timeline and "warning: key" in timeline
    assert "ended failed after 37 steps: OutOfMemoryError: CUDA out of memory." in timeline
    assert "step 12/200" not in timeline  # compact: not every step

    retry = _section(report, "Retry")
    assert f"cockpit train {run.profile_file}" in retry
    assert f"cockpit train {tmp_path / 'qlora.toml'}" in retry  # the file the user edits
    assert f"cockpit train --resume {run.id}" in retry and "checkpoint-25" in retry
    assert "PYTORCH_CUDA_ALLOC_CONF" in retry
    assert report.rstrip().endswith("at 2026-11-18T12:06:40+00:00._")


def test_a_finished_run_says_no_known_error_and_shows_how_the_log_ended(runs_dir, tmp_path):
    run = _finished_cpu_run(tmp_path)
    report = build_report(run, doctor_findings=[], now=NOON + 60)
    assert "**Verdict:** finished 30/30 steps in 36s, final loss 1.7000" in report
    findings = _section(report, "Findings")
    assert "No known error found in `output.log`." in findings
    assert "training done, adapter saved" in findings
    memory = _section(report, "Profile and memory")
    assert "measured peak RSS (a CPU run: not GPU memory)" in memory and "difference" not in memory
    assert "--resume" not in _section(report, "Retry")  # nothing left to resume


def test_a_plain_log_file_gets_findings_and_the_fix_to_apply(tmp_path, doctor_calls, capsys):
    log = tmp_path / "train.log"
    log.write_bytes(b"epoch 0\r\n" + OOM.encode() + b"\r\n")
    assert report_main(str(log), None, "/opt/py") == 0
    report = capsys.readouterr().out
    assert report.startswith("# Post-mortem: train.log\n")
    assert "**Verdict:** CUDA out of memory (cuda_oom)" in report
    assert "## Timeline" not in report and "## Profile and memory" not in report
    assert "Before retrying, fix the first error found" in report
    assert "NVIDIA driver (`nvidia_driver`: fail)" in report  # the doctor's verdict, linked
    assert "- Platform: Linux 6.8 (x86_64)." in report
    assert "✘ **fail** NVIDIA driver (`nvidia_driver`): No driver found." in report
    assert "  - fix: Install driver 550." in report and "3 checks passed" in report
    assert doctor_calls == ["/opt/py"]


def test_planted_secrets_never_reach_the_report(runs_dir, tmp_path, doctor_calls, capsys):
    run = _oom_run(tmp_path)  # tokens in run.json's command, an event and output.log
    assert report_main(run.id, None, None) == 0
    with_finding = capsys.readouterr().out
    run.output.write_text(f"export HF_TOKEN={HF}\nopenai key {SK}\nbye\n")
    assert report_main(run.id, None, None) == 0  # no finding: the log's tail is shown
    with_tail = capsys.readouterr().out
    assert HF in run.run_json.read_text()
    for report in (with_finding, with_tail):
        assert HF not in report and SK not in report
        assert re.search(r"--token \S*…\(redacted\)", report)  # from run.json's command
        assert "sk-…(redacted)" in report  # from an event's message
    assert "HF_TOKEN=" in with_tail and "hf_…(redacted)" in with_tail  # from output.log


def test_the_run_interpreter_is_checked_when_it_still_exists(runs_dir, tmp_path, doctor_calls):
    run = _oom_run(tmp_path)
    report = build_report(run, now=NOON)
    assert doctor_calls == [sys.executable] and "the interpreter the run used" in report
    update_meta(run.run_json, python=str(tmp_path / "gone/bin/python"))
    report = build_report(run, now=NOON)
    assert doctor_calls[-1] is None and "no longer exists" in report


def test_output_file_is_written_whole_or_not_at_all(
    runs_dir, tmp_path, doctor_calls, capsys, monkeypatch
):
    run = _oom_run(tmp_path)
    target = tmp_path / "out" / "pm.md"
    target.parent.mkdir()
    target.write_text("old report\n")
    assert report_main(run.id[:8], str(target), None) == 0
    assert capsys.readouterr().out == f"wrote {target}\n"
    assert target.read_text().startswith(f"# Post-mortem: {run.id}")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    assert report_main(run.id, str(target), None) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert target.read_text().startswith("# Post-mortem:")  # the previous file is intact
    assert sorted(p.name for p in target.parent.iterdir()) == ["pm.md"]  # no temp left


def test_an_unknown_run_id_exits_2_saying_how_to_list_runs(runs_dir, doctor_calls, capsys):
    assert report_main("abc", None, None) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert f"no run 'abc' in {runs_dir}" in captured.err and "`cockpit runs`" in captured.err
    assert doctor_calls == []


def test_a_folder_that_is_not_a_run_or_a_missing_file_exits_2(tmp_path, doctor_calls, capsys):
    assert report_main(str(tmp_path), None, None) == 2
    assert "without a run.json" in capsys.readouterr().err
    assert report_main(str(tmp_path / "train.log"), None, None) == 2
    assert f"no file {tmp_path / 'train.log'}" in capsys.readouterr().err
    assert doctor_calls == []


def test_a_run_dir_path_works_and_missing_events_and_log_are_said(runs_dir, doctor_calls, capsys):
    run = create_run(TINY, now=NOON)
    update_meta(run.run_json, pid=999_999, signal="SIGKILL", ended=NOON + 9)
    assert report_main(str(run.path), None, None) == 0
    report = capsys.readouterr().out
    assert "**Verdict:** crashed before its first step: SIGKILL" in report
    assert "no events.jsonl: the engine never wrote an event" in report
    assert "no log:" in report and "output.log does not exist" in report
    assert "No step recorded a memory peak" in report
    assert "| +00:09 | process killed by SIGKILL |" in report


def test_truncated_events_binary_and_empty_logs_still_give_a_report(runs_dir, tmp_path):
    run = _finished_cpu_run(tmp_path)
    _events(run, {"t": NOON + 2, "kind": "start", "steps": 30}, tail='{"t": 17, "kind": "st')
    run.output.write_bytes(bytes(range(256)) * 64)
    report = build_report(run, doctor_findings=[], now=NOON + 60)
    assert "events.jsonl has damaged or truncated lines" in report
    assert "output.log looks like binary data, not a text log" in report
    assert "\x00" not in report and "\x1b" not in report
    run.output.write_text("")
    assert "the log output.log is empty" in build_report(run, doctor_findings=[], now=NOON)


def test_a_long_run_keeps_the_timeline_short(runs_dir, tmp_path):
    run = _finished_cpu_run(tmp_path)
    start = {"t": NOON, "kind": "start", "steps": 5000, "device": "cpu"}
    checkpoints = [
        {"t": NOON + n, "kind": "checkpoint", "step": n} for n in range(10, 5001, 10)
    ]  # fmt: skip
    _events(run, start, *_steps(1, 5000, NOON), *checkpoints)
    timeline = _section(build_report(run, doctor_findings=[], now=NOON), "Timeline")
    assert timeline.count("checkpoint at step") == 20 and "… 480 more checkpoints …" in timeline
    assert "checkpoint at step 5000" in timeline and len(timeline.splitlines()) < 40


@pytest.mark.slow
def test_the_report_modules_import_neither_textual_nor_the_gpu_stack():
    code = "import sys, json, cockpit.cli.report, cockpit.report.run\n"
    code += "print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert not loaded & {"textual", "torch", "transformers", "peft", "trl", "bitsandbytes"}
