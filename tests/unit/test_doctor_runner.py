"""The doctor end to end with real child processes: facts, probes, crashes, hangs, --python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cockpit.doctor.checks import check
from cockpit.doctor.facts import Facts
from cockpit.doctor.probe_script import RESULT_MARKER, STAGE_MARKER
from cockpit.doctor.probes import parse_outcome, run_probe, run_probes, run_snippet
from cockpit.doctor.runner import exit_code, run_checks, run_doctor
from cockpit.doctor.target import FACTS_SCRIPT, TargetError, gather_facts, resolve_python
from cockpit.hardware.snapshot import NvmlStatus
from cockpit.isolated import Outcome, signal_name
from tests.unit.doctor_fixtures import SECRET_TOKEN, ctx, dist, facts, gpu

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(scope="module")
def our_facts() -> Facts:
    return gather_facts(sys.executable)


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second environment with no packages at all (no pip either)."""
    root = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    return root


def test_facts_script_describes_this_interpreter(our_facts: Facts):
    assert our_facts.executable == sys.executable
    assert our_facts.version_tuple[:2] == sys.version_info[:2]
    assert (our_facts.prefix, our_facts.base_prefix) == (sys.prefix, sys.base_prefix)
    assert our_facts.marker_env["sys_platform"] == sys.platform
    psutil = our_facts.dist("psutil")  # a cockpit dependency with compiled extensions
    assert psutil is not None and psutil.native and psutil.top_level == ("psutil",)
    assert our_facts.dist("Typing_Extensions") is not None  # name normalisation
    assert our_facts.ram_total_bytes and our_facts.ram_total_bytes > 0
    assert our_facts.errors == ()


@pytest.mark.slow
def test_facts_script_never_prints_the_token(tmp_path: Path):
    env = {**os.environ, "HF_TOKEN": SECRET_TOKEN, "HF_HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-I", str(FACTS_SCRIPT)], env=env, capture_output=True, text=True
    ).stdout
    raw = json.loads(out)
    assert raw["token"] == "hf_S…90" and raw["token_source"] == "HF_TOKEN"
    assert SECRET_TOKEN not in out and SECRET_TOKEN[4:-2] not in out


@pytest.mark.slow
def test_a_token_file_is_found_and_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "token").write_text(SECRET_TOKEN + "\n")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    found = gather_facts(sys.executable)
    assert found.token == "hf_S…90" and found.token_source == str(tmp_path / "token")


@pytest.mark.slow
def test_facts_of_a_second_venv_list_its_packages_not_ours(bare_venv: Path):
    found = gather_facts(resolve_python(str(bare_venv)))  # a venv folder is accepted
    assert found.prefix == str(bare_venv)
    assert found.dist("torch") is None and found.dist("textual") is None
    assert len(found.distributions) < 5


@pytest.mark.slow
def test_run_doctor_on_a_second_venv_says_torch_is_missing(bare_venv: Path):
    findings = run_doctor(str(bare_venv / "bin" / "python"), gpus=(), nvml=NvmlStatus(False))
    by_id = {f.id: f for f in findings}
    assert by_id["torch"].status == "fail" and "not installed" in by_id["torch"].detail
    assert str(bare_venv) in by_id["interpreter"].detail


def test_nonexistent_python_is_one_clear_finding(tmp_path: Path):
    missing = str(tmp_path / "nope" / "bin" / "python")
    findings = run_doctor(missing, gpus=())
    assert [(f.id, f.status) for f in findings] == [("interpreter", "fail")]
    assert f"--python {missing} does not exist" in findings[0].detail
    assert "--python" in findings[0].fix
    assert exit_code(findings) == 1


@pytest.mark.slow
def test_something_that_is_not_python_is_reported(tmp_path: Path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    with pytest.raises(TargetError) as error:
        gather_facts(str(fake))
    assert "printed no facts" in error.value.finding.detail


@pytest.mark.slow
@posix_only
def test_an_aborting_probe_is_reported_as_sigabrt():
    code = f"import os; print('{STAGE_MARKER} torch.cuda.is_available()', flush=True); os.abort()"
    result = run_snippet(sys.executable, "torch", code, timeout=10)
    assert not result.ok and result.signal_name == "SIGABRT"
    assert result.stage == "torch.cuda.is_available()"
    assert result.failure() == "crashed with SIGABRT during torch.cuda.is_available()"


@pytest.mark.slow
def test_a_hanging_probe_times_out_quickly():
    start = time.monotonic()
    result = run_snippet(sys.executable, "torch", "import time; time.sleep(30)", timeout=1)
    assert result.timed_out and not result.ok
    assert time.monotonic() - start < 10
    assert result.failure().startswith("hung for more than 1 s")


@pytest.mark.slow
def test_a_probe_of_a_missing_package_reports_the_import_error():
    result = run_probe(sys.executable, "ray", timeout=10)
    assert not result.ok and result.returncode == 0
    assert result.error and "No module named 'ray'" in result.error


@pytest.mark.slow
def test_inductor_probe_reads_this_torchs_option_names():
    names = ["epilogue_fusion", "triton.cudagraphs", "triton.no_such_option_anywhere"]
    result = run_probe(sys.executable, "inductor_options", names, timeout=20)
    assert result.ok, result.failure()
    assert result.data["missing"] == ["triton.no_such_option_anywhere"]


@pytest.mark.slow
def test_only_probes_of_installed_packages_run():
    assert run_probes(sys.executable, facts(), timeout=10) == {}
    ran = run_probes(sys.executable, facts(dist("ray", "2.51.1")), timeout=10)
    assert set(ran) == {"ray"}  # facts say Ray is installed, the import says otherwise
    assert "No module named 'ray'" in (ran["ray"].error or "")


def test_parse_outcome_keeps_the_last_stage_and_the_result():
    out = f"{STAGE_MARKER} import torch\n{RESULT_MARKER} " + json.dumps({"version": "2.7.1"})
    result = parse_outcome("torch", Outcome(0, out + "\n", ""))
    assert result.ok and result.data["version"] == "2.7.1" and result.stage == "import torch"
    garbled = parse_outcome("torch", Outcome(0, f"{RESULT_MARKER} {{not json\n", "boom"))
    assert not garbled.ok and garbled.failure() == "reported nothing"


def test_signal_names_on_posix_and_windows():
    assert signal_name(-6, windows=False) == "SIGABRT"
    assert signal_name(-11, windows=False) == "SIGSEGV"
    assert signal_name(0xC0000005, windows=True) == "SIGSEGV"
    assert signal_name(1, windows=False) is None


def test_a_check_that_raises_becomes_a_fail_naming_the_bug():
    @check("ray")
    def buggy(_ctx):
        raise KeyError("oops")

    found = run_checks(ctx(facts()), checks=(buggy,))
    assert [(f.id, f.status) for f in found] == [("ray", "fail")]
    assert "KeyError" in found[0].detail and "bug in cockpit" in found[0].detail


def test_every_check_runs_on_minimal_facts_without_crashing():
    bare = Facts(executable="/x/python", version="3.11.0")
    found = run_checks(ctx(bare))
    assert not any("crashed" in f.detail for f in found), [f.detail for f in found]
    assert len({f.id for f in found}) == len(found) == 22


@pytest.mark.slow
def test_run_doctor_on_this_venv_with_a_fabricated_gpu():
    start = time.monotonic()
    findings = run_doctor(gpus=(gpu(),))
    wall = time.monotonic() - start
    by_id = {f.id: f for f in findings}
    # A fabricated GPU that this machine's torch cannot reach: a failure, whatever the build.
    assert by_id["torch"].status == "fail"
    assert "GPU" in by_id["torch"].detail
    assert by_id["nvidia_driver"].status == "ok"
    statuses = [f.status for f in findings]
    assert statuses == sorted(statuses, key=["fail", "warn", "ok", "skip"].index)
    assert wall < 30, wall
