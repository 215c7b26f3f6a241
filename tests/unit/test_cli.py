"""The headless twins, run as a user runs them: the real console script in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

COCKPIT = str(Path(sys.executable).parent / "cockpit")


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([COCKPIT, *args], capture_output=True, text=True, timeout=timeout)


def test_version():
    done = _run("--version")
    assert done.returncode == 0 and done.stdout.startswith("cockpit ")


def test_unknown_simulation_names_the_valid_ones():
    done = _run("--simulate", "gtx9000")
    assert done.returncode == 2
    assert "gtx9000" in done.stderr
    for name in ("rtx3050-4gb", "rtx5070ti-16gb", "2x-a100-40gb"):
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_watch_once_simulated_prints_one_line_per_gpu_plus_host():
    done = _run("watch", "--once", "--simulate", "2x-a100-40gb")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3
    assert all("SIMULATED" in line for line in lines[:2])
    assert "A100" in lines[0] and lines[2].startswith("host")


def test_watch_once_json_is_the_snapshot():
    done = _run("watch", "--once", "--json", "--simulate", "rtx3050-4gb")
    assert done.returncode == 0, done.stderr
    snap = json.loads(done.stdout)
    (gpu,) = snap["gpus"]
    assert gpu["memory_total_bytes"] == 4 * 1024**3
    assert snap["nvml"]["simulated"] == "rtx3050-4gb"
    assert snap["host"]["ram_total_bytes"] > 0


def test_watch_without_a_gpu_says_what_nvml_reported():
    done = _run("watch", "--once")  # this machine has no NVIDIA driver
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("GPU") and "NVML" in first


def test_explain_names_the_cause_and_its_fix_and_redacts_tokens(tmp_path):
    log = tmp_path / "output.log"
    log.write_text(
        "step 1 loss 2.3\n"
        "export HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz123456\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.\n"
    )
    done = _run("explain", str(log), "--json")
    assert done.returncode == 1
    (finding,) = json.loads(done.stdout)
    assert (finding["id"], finding["line"]) == ("cuda_oom", 3)
    assert "batch" in finding["fix"]
    assert "hf_abcdefghijklmnopqrstuvwxyz123456" not in done.stdout
    assert _run("explain", str(tmp_path / "missing.log")).returncode == 2
