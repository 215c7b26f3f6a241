"""Pre-flight refuses a training interpreter without the training stack (issue 13).

Seen: `[env] python` pointing at an interpreter without torch passed pre-flight in
`cockpit train` (the Runs place alone looked); the engine then died at its first import. The
doctor's facts for that interpreter answer it, kept per interpreter so the Runs place does
not re-probe on every highlight.
"""

from __future__ import annotations

import sys
import venv
from pathlib import Path

import pytest
import tomli_w
import tomllib

from cockpit.cli.train import train_main
from cockpit.runs import stack_check
from cockpit.runs.preflight import EXIT_INVALID, preflight
from cockpit.runs.stack_check import TRAIN_MODULES, TrainingStack, training_stack
from tests.runs_helpers import TINY

pytest_plugins = ["tests.runs_fixtures"]


def _profile(tmp_path: Path, python: str) -> Path:
    raw = tomllib.loads(TINY.read_text())
    raw["env"]["python"] = python
    raw["data"]["path"] = str((TINY.parent / raw["data"]["path"]).resolve())
    path = tmp_path / "bare.toml"
    path.write_text(tomli_w.dumps(raw))
    return path


@pytest.fixture
def bare_python(tmp_path) -> str:
    """A fresh venv's interpreter: no torch, transformers, peft or trl."""
    env = tmp_path / "bare-env"
    venv.create(env, with_pip=False)
    return str(env / "bin" / "python")


@pytest.fixture(autouse=True)
def _fresh_answers(monkeypatch):
    monkeypatch.setattr(stack_check, "_kept", {})
    monkeypatch.delenv("COCKPIT_ENGINE_MODULE", raising=False)


def test_a_missing_stack_is_refused_with_the_pip_command_for_that_interpreter(tmp_path):
    stack = TrainingStack("/envs/bare/bin/python", ("torch", "peft"))
    check = preflight(
        _profile(tmp_path, sys.executable), gpu_sizes_gib=(), stack_probe=lambda p: stack
    )
    (refusal,) = check.refusals
    assert refusal.key == "env.python" and refusal.kind == "env"
    assert "the training stack is missing" in refusal.message and "torch, peft" in refusal.message
    assert f"/envs/bare/bin/python -m pip install {' '.join(TRAIN_MODULES)}" in refusal.fix


def test_cockpits_own_interpreter_is_answered_in_process():
    """No subprocess (the unit tier would fail this test if one started)."""
    own = training_stack(sys.executable)
    assert own.python == sys.executable and own.missing == () and own.error is None


@pytest.mark.slow  # runs the doctor's facts script under a fresh venv
def test_cockpit_train_refuses_an_interpreter_without_torch(
    tmp_path, runs_dir, bare_python, capsys
):
    code = train_main(str(_profile(tmp_path, bare_python)))
    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert f"{bare_python} cannot import torch, transformers, peft, trl" in err
    assert f"{bare_python} -m pip install torch transformers peft trl" in err
    assert not runs_dir.exists() or not any(runs_dir.iterdir())  # nothing was started


@pytest.mark.slow
def test_the_facts_are_kept_per_interpreter(monkeypatch, bare_python):
    from cockpit.doctor import target

    calls: list[str] = []
    real = target.gather_facts
    monkeypatch.setattr(target, "gather_facts", lambda p, **kw: calls.append(p) or real(p, **kw))
    first = training_stack(bare_python)
    assert training_stack(bare_python) == first and len(calls) == 1
    assert "torch" in first.missing and first.error is None
    monkeypatch.setattr(stack_check, "STACK_TTL_S", 0.0)  # once stale, asked again
    training_stack(bare_python)
    assert len(calls) == 2


def test_an_interpreter_that_cannot_answer_is_a_note_not_a_refusal(tmp_path):
    stack = TrainingStack("/envs/odd/python", error="/envs/odd/python did not answer within 20 s")
    check = preflight(
        _profile(tmp_path, sys.executable), gpu_sizes_gib=(), stack_probe=lambda p: stack
    )
    assert check.ok
    assert any("could not check the training stack" in n for n in check.notes)
