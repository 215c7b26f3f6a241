"""Whether the training interpreter has the training stack, asked once and kept.

A profile whose `[env] python` lacks torch, transformers, peft or trl starts, loads nothing
and dies at import. The doctor already reads any interpreter's installed distributions
without importing them (`cockpit.doctor.target.gather_facts`, ~0.7 s in a subprocess);
pre-flight reuses those facts. cockpit's own interpreter is answered in-process with
`importlib.util.find_spec` (no subprocess, nothing imported). Answers are kept per interpreter
while its file is unchanged, for ``STACK_TTL_S``: the Runs place re-checks on every
highlight, and must not re-probe each time.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from importlib.util import find_spec

TRAIN_MODULES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate")
"""What the engines import: the `[train]` extra (module and distribution names agree)."""
STACK_TIMEOUT_S = 20.0
STACK_TTL_S = 30.0


@dataclass(frozen=True)
class TrainingStack:
    """What one interpreter has of the training stack."""

    python: str
    missing: tuple[str, ...] = ()
    """Training modules it cannot import."""
    torch_version: str | None = None
    unsloth: bool = False
    """Unsloth is installed (whether it imports there is the doctor's question)."""
    error: str | None = None
    """Why the interpreter could not be asked (it still may work); nothing else is known."""

    @property
    def cpu_torch(self) -> bool:
        """Its torch is a CPU-only build (the "+cpu" wheels of PyTorch's index)."""
        return bool(self.torch_version and "+cpu" in self.torch_version)

    @property
    def install_command(self) -> str:
        """The pip command that installs the missing stack into this interpreter."""
        if same_interpreter(self.python):
            return f'{self.python} -m pip install "cockpit[train]"'
        return f"{self.python} -m pip install {' '.join(TRAIN_MODULES)}"


def same_interpreter(python: str) -> bool:
    return os.path.abspath(python) == os.path.abspath(sys.executable)


_kept: dict[tuple[str, float], tuple[float, TrainingStack]] = {}
_kept_lock = threading.Lock()


def training_stack(python: str) -> TrainingStack:
    """The stack of `python` (kept STACK_TTL_S while the interpreter file is unchanged)."""
    try:
        key = (os.path.abspath(python), os.stat(python).st_mtime)
    except OSError:
        key = (os.path.abspath(python), 0.0)
    with _kept_lock:
        kept = _kept.get(key)
    if kept is not None and time.monotonic() - kept[0] < STACK_TTL_S:
        return kept[1]
    stack = _own_stack() if same_interpreter(python) else _foreign_stack(python)
    if stack.error is None:
        with _kept_lock:
            _kept[key] = (time.monotonic(), stack)
    return stack


def forget() -> None:
    """Drop every kept answer (after installing into an environment)."""
    with _kept_lock:
        _kept.clear()


def _own_stack() -> TrainingStack:
    from importlib import metadata  # 25 ms: not on the Runs place's first frame

    missing = tuple(m for m in TRAIN_MODULES if find_spec(m) is None)
    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = None
    return TrainingStack(sys.executable, missing, torch, find_spec("unsloth") is not None)


def _foreign_stack(python: str) -> TrainingStack:
    from cockpit.doctor.target import TargetError, gather_facts

    try:
        facts = gather_facts(python, timeout=STACK_TIMEOUT_S)
    except TargetError as exc:
        return TrainingStack(python, error=exc.finding.detail)
    torch = facts.dist("torch")
    return TrainingStack(
        python,
        tuple(m for m in TRAIN_MODULES if not facts.has(m)),
        torch.version if torch else None,
        facts.has("unsloth"),
    )
