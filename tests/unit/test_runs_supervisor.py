"""The supervisor with a fake engine: detached runs, their end status, stop and resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cockpit.runs.preflight import Preflight, PreflightError, preflight
from cockpit.runs.procs import run_processes
from cockpit.runs.store import find_run, list_runs, load_run, output_tail
from cockpit.runs.supervisor import (
    LaunchError,
    engine_command,
    resume_run,
    start_run,
    stop_run,
)
from engines import protocol
from tests.runs_helpers import REPO, TINY, wait_for

pytestmark = pytest.mark.slow  # every test here starts processes (tests/unit/conftest.py)

pytest_plugins = ["tests.runs_fixtures"]


def _start(**kwargs):
    return start_run(TINY, gpu_sizes_gib=(), **kwargs)


def _ended(run_id: str, timeout: float = 20.0):
    """The summary once the run is over and its reaper has recorded the exit."""

    def over():
        summary = load_run(run_id)
        recorded = summary.exit_code is not None or summary.signal or summary.status == "failed"
        return summary if not summary.active and recorded else None

    return wait_for(over, timeout, "the end of the run")


def _meta(run) -> dict:
    return json.loads(run.run_json.read_text())


def test_a_run_trains_to_the_end_in_its_own_session(fake_engine):
    run = _start()
    meta = _meta(run)
    assert meta["pid"] and os.getsid(meta["reaper_pid"]) != os.getsid(0)  # survives our exit
    assert meta["command"][1:4] == ["-m", "tests.fake_engine", "run"]
    summary = _ended(run.id)
    assert summary.status == "finished" and summary.exit_code == 0
    assert (summary.step, summary.total_steps) == (5, 5)
    assert summary.adapter_path == str(run.adapter)
    assert "fake engine: step 5/5" in output_tail(run, 5)[-1]


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSEGV", "SIGABRT"])
def test_a_killed_engine_is_crashed_with_the_signal(fake_engine, sig):
    fake_engine(f"steps=2,then=crash:{sig}")
    summary = _ended(_start().id)
    assert summary.status == "crashed" and summary.signal == sig
    assert summary.reason.startswith(sig) and summary.step == 2


def test_an_engine_error_is_failed_with_class_message_and_output(fake_engine):
    fake_engine("steps=1,then=raise")
    run = _start()
    summary = _ended(run.id)
    assert summary.status == "failed"
    assert summary.reason == "ValueError: column 'messages' not found in the data"
    assert any("Traceback" in line for line in output_tail(run, 20))


def test_exit_0_without_a_step_is_failed(fake_engine):
    fake_engine("exit0")
    summary = _ended(_start().id)
    assert summary.status == "failed" and "without training a step" in summary.reason


def test_finished_with_zero_steps_is_failed(fake_engine):
    fake_engine("endzero")
    summary = _ended(_start().id)
    assert summary.status == "failed" and "0 steps" in summary.reason


def test_stop_is_graceful_first(fake_engine):
    fake_engine("steps=2,then=hang")
    run = _start()
    wait_for(lambda: load_run(run.id).step == 2, what="two steps")
    said: list[str] = []
    summary = stop_run(run.id, grace_s=10, on_step=said.append)
    assert summary.status == "stopped" and summary.reason == "stopped at step 2"
    assert summary.last_checkpoint and summary.last_checkpoint.endswith("checkpoint-2")
    assert len(said) == 1 and "checkpoint" in said[0]
    assert summary.exit_code == 0


def test_stop_escalates_to_sigkill_for_an_engine_that_ignores_signals(fake_engine):
    fake_engine("steps=1,then=stubborn")
    run = _start()
    wait_for(lambda: "waiting to be stopped" in "".join(output_tail(run, 3)), what="the hang")
    said: list[str] = []
    summary = stop_run(run.id, grace_s=0.2, term_s=0.2, on_step=said.append)
    assert [s.split()[1] for s in said[1:]] == ["SIGTERM", "SIGKILL"]
    assert summary.status == "stopped" and summary.signal == "SIGKILL"
    assert not summary.active


def test_stop_reaches_ranks_in_sessions_of_their_own(fake_engine):
    fake_engine("steps=1,then=hang,rank")
    run = _start()
    wait_for(lambda: len(run_processes(run.path)) == 3, what="reaper, engine and rank")
    summary = stop_run(run.id, grace_s=0.3, term_s=5)
    assert summary.status == "stopped" and run_processes(run.path) == []


def test_a_stop_leaves_alone_a_launch_that_starts_while_it_waits(fake_engine):
    """Resume right after a stop: the new engine shares the run directory, and the stop still
    escalating on the old one must neither wait for it nor signal it."""
    fake_engine("steps=1,then=stubborn")
    run = _start()
    wait_for(lambda: "waiting to be stopped" in "".join(output_tail(run, 3)), what="the hang")
    newcomers: list[subprocess.Popen] = []
    looks_resumed = [sys.executable, "-c", "import time; time.sleep(60)", "run", str(run.path)]

    def resume_meanwhile(_text: str) -> None:
        if not newcomers:  # `... run RUN_DIR`, as a resumed engine's command line reads
            newcomers.append(subprocess.Popen(looks_resumed))

    try:
        summary = stop_run(run.id, grace_s=0.2, term_s=0.2, on_step=resume_meanwhile)
        assert summary.signal == "SIGKILL"  # the old launch was stopped the hard way…
        assert newcomers[0].poll() is None  # …and the new one never got a signal
    finally:
        newcomers[0].kill()
        newcomers[0].wait()


def test_stopping_a_finished_run_changes_nothing(fake_engine):
    run = _start()
    before = _ended(run.id)
    assert stop_run(run.id) == before


def test_resume_runs_again_in_the_same_dir_from_the_checkpoint(fake_engine):
    fake_engine("steps=4,then=hang")
    run = _start()
    wait_for(lambda: load_run(run.id).step == 4, what="four steps")
    assert stop_run(run.id, grace_s=10).status == "stopped"
    fake_engine("steps=6")
    again = resume_run(run.id, gpu_sizes_gib=())
    assert again == run
    summary = _ended(run.id)
    assert summary.status == "finished" and summary.step == 6
    meta = _meta(run)
    assert meta["launches"] == 2 and meta["command"][-1] == "--resume"
    assert meta["history"][0]["exit_code"] == 0
    starts = [e for e in protocol.EventTail(run.events).read() if e["kind"] == "start"]
    assert [s["resumed_from"] for s in starts] == [None, 4]
    assert len(list_runs()) == 1


def test_start_run_resume_id_resumes(fake_engine):
    fake_engine("steps=1,then=crash:SIGKILL")
    run = _start()
    assert _ended(run.id).status == "crashed"
    fake_engine("steps=1")
    assert start_run(TINY, resume_run_id=run.id, gpu_sizes_gib=()) == run
    assert _ended(run.id).status == "finished"


def test_a_running_run_cannot_be_resumed(fake_engine):
    fake_engine("steps=1,then=hang")
    run = _start()
    with pytest.raises(LaunchError, match="stop it first"):
        resume_run(run.id, gpu_sizes_gib=())


def test_a_refused_profile_creates_no_run(fake_engine, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.read_text().replace("data/demo.jsonl", "data/missing.jsonl"))
    with pytest.raises(PreflightError) as caught:
        start_run(bad, gpu_sizes_gib=())
    assert caught.value.preflight.refusals[0].key == "data.path"
    assert list_runs() == []


def test_an_interpreter_that_vanished_after_preflight_fails_the_run(fake_engine):
    checked = preflight(TINY, gpu_sizes_gib=())
    gone = Preflight(checked.profile_path, checked.profile, python="/vanished/bin/python")
    with pytest.raises(LaunchError, match="/vanished/bin/python"):
        start_run(TINY, checked=gone)
    (summary,) = list_runs()
    assert summary.status == "failed" and "could not start the engine" in summary.reason


def test_the_engine_finds_engines_through_a_prepended_pythonpath(fake_engine, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    run = _start()
    _ended(run.id)
    lines = output_tail(run, 50)
    assert f"fake engine: PYTHONPATH={REPO}{os.pathsep}/somewhere/else" in lines
    assert f"fake engine: engines from {REPO}" in lines
    assert "fake engine: unbuffered=1" in lines


def test_secrets_on_the_command_line_are_redacted_in_run_json(fake_engine, tmp_path):
    python = tmp_path / "hf_abcdefghijklmnop" / "python"
    python.parent.mkdir()
    python.symlink_to(sys.executable)
    checked = preflight(TINY, gpu_sizes_gib=())
    run = start_run(
        TINY, checked=Preflight(checked.profile_path, checked.profile, python=str(python))
    )
    meta = _meta(run)
    assert "hf_abcdefghijklmnop" not in json.dumps(meta)
    assert "hf_…(redacted)" in meta["command"][0] and "hf_…(redacted)" in meta["command_text"]
    assert _ended(run.id).status == "finished"


def test_an_installed_engines_package_is_staged_alone(tmp_path, monkeypatch):
    """From a site-packages, only `engines` goes on the engine's path, not cockpit's deps."""
    from types import SimpleNamespace

    from cockpit.runs import engine_env, supervisor

    site = tmp_path / "lib" / "site-packages"
    (site / "engines").mkdir(parents=True)
    (site / "engines" / "protocol.py").write_text("# protocol\n")
    (site / "textual").mkdir()
    fake = SimpleNamespace(__file__=str(site / "engines" / "protocol.py"))
    monkeypatch.setattr(engine_env, "protocol", fake)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    staged = supervisor.engines_search_path(run_dir)
    assert staged != site and sorted(p.name for p in staged.iterdir()) == ["engines"]
    assert (staged / "engines" / "protocol.py").read_text() == "# protocol\n"
    assert supervisor.engines_search_path(run_dir) == staged  # again: replaced, not nested
    monkeypatch.undo()
    assert supervisor.engines_search_path(run_dir) == REPO  # a source checkout: as it is


def test_commands_for_one_and_several_processes(monkeypatch):
    monkeypatch.delenv("COCKPIT_ENGINE_MODULE", raising=False)
    assert engine_command("py", "/r/x") == ["py", "-m", "engines", "run", "/r/x"]
    assert engine_command("py", "/r/x", resume=True)[-1] == "--resume"
    multi = engine_command("py", "/r/x", processes=2)
    assert multi[:3] == ["py", "-m", "accelerate.commands.launch"]
    assert multi[multi.index("--num_processes") + 1] == "2" and "--multi_gpu" in multi
    assert multi[-4:] == ["-m", "engines", "run", "/r/x"]
    from cockpit.hardware.host import cockpit_run_id

    assert cockpit_run_id(" ".join(multi)) == "x"
    assert cockpit_run_id(" ".join(engine_command("py", "/r/x"))) == "x"


def test_find_run_after_start(fake_engine):
    run = _start()
    assert find_run(run.id) == run
    _ended(run.id)


def test_the_accelerate_launcher_module_exists():
    """The multi-process command runs `python -m accelerate.commands.launch`."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("accelerate")  # the package, without importing torch
    assert spec is not None and spec.submodule_search_locations
    launch = Path(spec.submodule_search_locations[0]) / "commands" / "launch.py"
    assert 'if __name__ == "__main__"' in launch.read_text()
