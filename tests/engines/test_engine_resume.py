"""Resume and stop with the real engine on CPU, as a user meets them (issue 10).

A resume skips a checkpoint that does not load and says so; a resume after the final save
says "already finished" instead of training past the last step; a stop while the model
loads is a stop, and an engine failure before its first step is that failure, in the status
cockpit derives from what the engine wrote.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w
import tomllib

from cockpit.runs.status import EventFold, derive_status
from engines.protocol import ADAPTER_DIR, CHECKPOINTS_DIR, EVENTS_FILE, PROFILE_FILE
from tests.engines.helpers import (
    RUN_TIMEOUT,
    engine_command,
    engine_env,
    events,
    make_run_dir,
    output,
    run_engine,
)
from tests.runs_helpers import wait_for


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return engine_env(tmp_path_factory.mktemp("engine-cache"))


def _status(run_dir: Path, exit_code: int, before: EventFold, **meta: object) -> tuple[str, str]:
    """The status cockpit shows for a launch that began with `before` in events.jsonl."""
    launch = {"pid": 1, "starts_before": before.starts, "ends_before": before.ends}
    fold = EventFold().add_all(events(run_dir))
    return derive_status({**launch, "exit_code": exit_code, **meta}, fold, alive=False)


def _fold(run_dir: Path) -> EventFold:
    return EventFold().add_all(events(run_dir))


def _warnings(run_dir: Path) -> list[str]:
    return [e["text"] for e in events(run_dir, "message") if e["level"] == "warning"]


def _texts(run_dir: Path) -> str:
    return "\n".join(e["text"] for e in events(run_dir, "message"))


def _set_max_steps(run_dir: Path, steps: int) -> None:
    raw = tomllib.loads((run_dir / PROFILE_FILE).read_text(encoding="utf-8"))
    raw["train"]["max_steps"] = steps
    (run_dir / PROFILE_FILE).write_text(tomli_w.dumps(raw), encoding="utf-8")


def _checkpoint_steps(run_dir: Path) -> list[int]:
    found = (run_dir / CHECKPOINTS_DIR).glob("checkpoint-*/trainer_state.json")
    return sorted(int(p.parent.name.rsplit("-", 1)[1]) for p in found)


def _truncate(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)


def _stop_after(run_dir: Path, env: dict[str, str], ready: Callable[[], object]) -> int:
    """Start the engine, SIGTERM it once `ready`, return its exit code."""
    with open(run_dir / "output.log", "a", encoding="utf-8") as log:
        proc = subprocess.Popen(engine_command(run_dir), stdout=log, stderr=log, env=env)
        try:
            wait_for(ready, RUN_TIMEOUT, "the engine")
            proc.send_signal(signal.SIGTERM)
            return proc.wait(timeout=RUN_TIMEOUT)
        finally:
            proc.kill()


def test_resume_skips_a_truncated_checkpoint_and_says_which(tmp_path, env):
    run_dir = make_run_dir(
        tmp_path, "tiny-demo-cpu", train={"max_steps": 300, "batch_size": 2, "save_steps": 2}
    )
    code = _stop_after(run_dir, env, lambda: len(events(run_dir, "checkpoint")) >= 2)
    assert code == 0, output(run_dir)
    *older, newest = _checkpoint_steps(run_dir)
    _truncate(run_dir / CHECKPOINTS_DIR / f"checkpoint-{newest}" / "optimizer.pt")
    _set_max_steps(run_dir, newest + 2)  # keep the resumed run short
    before = _fold(run_dir)

    result = run_engine(run_dir, env, "--resume")
    assert result.returncode == 0, output(run_dir)
    (skipped,) = [w for w in _warnings(run_dir) if "skipped" in w]
    assert f"checkpoint-{newest}" in skipped and "optimizer.pt" in skipped
    assert f"resuming from checkpoint-{older[-1]}" in _texts(run_dir)
    assert events(run_dir, "start")[-1]["resumed_from"] == older[-1]
    resumed = [s["step"] for s in events(run_dir, "step")][before.step_events :]
    assert resumed == list(range(older[-1] + 1, newest + 3))
    assert events(run_dir, "end")[-1]["steps_done"] == newest + 2
    assert _status(run_dir, 0, before) == ("finished", "")


def test_resume_after_the_final_save_is_already_finished_without_a_step_more(tmp_path, env):
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", train={"max_steps": 4, "save_steps": 2})
    assert run_engine(run_dir, env).returncode == 0, output(run_dir)
    adapter = run_dir / ADAPTER_DIR / "adapter_model.safetensors"
    saved = adapter.read_bytes()
    # killed while saving the adapter, after the last checkpoint: no end event, half a file
    lines = (run_dir / EVENTS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    (run_dir / EVENTS_FILE).write_text("".join(lines[:-1]), encoding="utf-8")
    _truncate(adapter)

    for attempt in ("after the kill", "once more"):
        before = _fold(run_dir)
        result = run_engine(run_dir, env, "--resume")
        assert result.returncode == 0, f"{attempt}: {output(run_dir)}"
        assert [s["step"] for s in events(run_dir, "step")] == [1, 2, 3, 4], attempt
        end = events(run_dir, "end")[-1]
        assert (end["status"], end["steps_done"]) == ("finished", 4), attempt
        assert "already finished" in _texts(run_dir), attempt
        assert adapter.read_bytes() == saved, attempt
        assert _status(run_dir, 0, before) == ("finished", ""), attempt


def test_sigint_while_the_model_loads_is_stopped(tmp_path, env):
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu")
    with open(run_dir / "output.log", "a", encoding="utf-8") as log:
        proc = subprocess.Popen(engine_command(run_dir), stdout=log, stderr=log, env=env)
        try:
            # its first message comes before the stack is imported and the model loaded
            wait_for(lambda: events(run_dir, "message"), RUN_TIMEOUT, "the first message")
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=RUN_TIMEOUT)
        finally:
            proc.kill()
    assert code == 0, output(run_dir)
    assert not events(run_dir, "step")
    (end,) = events(run_dir, "end")
    assert (end["status"], end["steps_done"]) == ("stopped", 0)
    status, reason = _status(run_dir, code, EventFold(), stop_requested=1.0)
    assert status == "stopped" and "wrong interpreter" not in reason


def test_bad_data_fails_before_the_first_start_and_says_why(tmp_path, env):
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"question": "no text column"}) + "\n", encoding="utf-8")
    run_dir = make_run_dir(tmp_path, "tiny-demo-cpu", data={"path": str(data), "format": "auto"})
    result = run_engine(run_dir, env)
    assert result.returncode == 1
    assert not events(run_dir, "start")
    (end,) = events(run_dir, "end")
    status, reason = _status(run_dir, 1, EventFold())
    assert status == "failed" and reason.startswith(end["error_class"])
