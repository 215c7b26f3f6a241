"""`cockpit explain`, `report` and `logs` given a FIFO or a device (issue 10, #7): a clear
"not a regular file" and exit 2 within 5 s. Before, a FIFO hung each of them (a plain open
waits for a writer) and /dev/zero was read forever.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from cockpit.logs.source import LogFile, LogOpenError
from tests.damaged_runs import DEADLINE_S, run_cli


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "train.log"
    os.mkfifo(path)
    return path


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("COCKPIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr("cockpit.doctor.runner.run_doctor", lambda *args, **kwargs: [])


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_explain_on_a_fifo_exits_2_saying_it_is_no_regular_file(fifo: Path, as_json: bool):
    done = run_cli(["explain", str(fifo), *(["--json"] if as_json else [])])
    assert done.code == 2 and done.out == ""
    assert str(fifo) in done.err and "a FIFO, not a regular file" in done.err


def test_explain_on_dev_zero_exits_2_instead_of_reading_forever():
    done = run_cli(["explain", "/dev/zero"])
    assert done.code == 2 and "a character device, not a regular file" in done.err


@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_report_on_a_fifo_or_device_exits_2_with_the_reason(fifo: Path, target: str):
    path = str(fifo) if target == "fifo" else target
    done = run_cli(["report", path])
    assert done.code == 2 and done.out == ""
    assert path in done.err and "not a regular file" in done.err


def test_cockpit_logs_on_a_fifo_exits_2_before_the_app_starts(fifo: Path):
    done = run_cli(["logs", str(fifo)])
    assert done.code == 2 and "a FIFO, not a regular file" in done.err


@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_the_logs_place_refuses_a_fifo_or_device_at_once(fifo: Path, target: str):
    path = fifo if target == "fifo" else Path(target)
    outcome: list[BaseException | LogFile] = []

    def open_it() -> None:
        try:
            outcome.append(LogFile(path))
        except BaseException as exc:  # reported below
            outcome.append(exc)

    thread = threading.Thread(target=open_it, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    assert not thread.is_alive(), f"opening {path} still waits after {DEADLINE_S:g} s"
    (result,) = outcome
    assert isinstance(result, LogOpenError) and "not a regular file" in str(result)
