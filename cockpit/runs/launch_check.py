"""Everything the Launch pane shows before a start: the pre-flight verdict (the training
stack of the run's interpreter included) and the command that will run.

No Textual: it runs in a worker thread and is testable on its own. The stack check never
imports torch (`cockpit.runs.stack_check`, inside pre-flight), so a missing `[train]` extra
is a pip command on screen instead of an engine that dies at import.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from cockpit.hardware.snapshot import GpuTraits
from cockpit.redact import redact
from cockpit.runs.model_source import Probe
from cockpit.runs.preflight import Preflight, preflight
from cockpit.runs.refusal import FORCIBLE
from cockpit.runs.slurm import SCRIPT_FILE
from cockpit.runs.stack_check import (
    STACK_TIMEOUT_S,
    TRAIN_MODULES,
    TrainingStack,
    same_interpreter,
)
from cockpit.runs.store import runs_root
from cockpit.runs.supervisor import command_text, engine_command, slurm_script

__all__ = ["TRAIN_MODULES", "LaunchCheck", "check_launch", "missing_modules"]

RUN_DIR_PLACEHOLDER = "<new run>"
FORCE_KEY = "f"
"""The Runs place's "start anyway" key: what its refusals name instead of `--force`."""
_FIND_SPECS = (
    "import importlib.util, json, sys; "
    "print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]))"
)


@dataclass(frozen=True)
class LaunchCheck:
    """The verdict on starting one profile, as the Launch pane shows it."""

    name: str
    """The profile's listed name (what `cockpit train` accepts)."""
    preflight: Preflight
    command: str = ""
    """The engine's command line, with a placeholder for the run directory."""
    gpu_gib: float | None = None
    """The largest GPU the verdict was judged on; None without a GPU."""
    script: str = ""
    """A Slurm run's batch script, as it will be submitted (the run dir a placeholder)."""

    @property
    def ok(self) -> bool:
        return self.preflight.ok

    @property
    def missing(self) -> tuple[str, ...]:
        """Training modules the run's interpreter cannot import (pre-flight refuses them)."""
        stack = self.preflight.stack
        return stack.missing if stack is not None else ()

    @property
    def forcible(self) -> bool:
        """True when every refusal is one force overrides ("won't fit", the data's
        findings): `f` may start it anyway."""
        refusals = self.preflight.refusals
        return bool(refusals) and all(r.kind in FORCIBLE for r in refusals)

    @property
    def twin(self) -> str:
        """The same start from a shell."""
        return f"cockpit train {self.name}"

    @property
    def install_command(self) -> str:
        """The pip command that installs the missing training stack."""
        return TrainingStack(self.preflight.python).install_command

    @property
    def first_reason(self) -> str:
        """The first refusal in one line, naming this place's key for "start anyway"."""
        refusal = self.preflight.refusals[0]
        return f"{refusal.where}{refusal.message}. Fix: {refusal.fix_for(FORCE_KEY)}"


def missing_modules(
    python: str, modules: Sequence[str] = TRAIN_MODULES, timeout: float = STACK_TIMEOUT_S
) -> tuple[tuple[str, ...], str | None]:
    """(modules `python` cannot import, why it could not be asked or None); imports nothing."""
    if same_interpreter(python):
        return tuple(m for m in modules if find_spec(m) is None), None
    try:
        done = subprocess.run(
            [python, "-I", "-c", _FIND_SPECS, *modules],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return (), f"{python} did not answer within {timeout:g} s"
    except (OSError, ValueError, IndexError) as exc:
        return (), f"could not ask {python} which modules it has ({exc})"
    return tuple(str(m) for m in found), None


def display_run_dir() -> str:
    """Where the next run's folder will be, for the command shown before it exists."""
    root = runs_root()
    try:
        shown = "~/" + root.resolve().relative_to(Path.home().resolve()).as_posix()
    except ValueError:
        shown = str(root)
    return f"{shown}/{RUN_DIR_PLACEHOLDER}"


def check_launch(
    name: str,
    profile_path: Path,
    *,
    gpu_sizes_gib: Sequence[float] | None = None,
    gpus: Sequence[GpuTraits] | None = None,
    force: bool = False,
    hub_probe: Probe | Literal["auto"] | None = "auto",
) -> LaunchCheck:
    """Pre-flight ``profile_path`` (the training stack included); never raises for bad input.

    The GPUs as `preflight` takes them: `gpus`, else `gpu_sizes_gib`, else detected.
    """
    checked = preflight(
        profile_path, force=force, gpu_sizes_gib=gpu_sizes_gib, gpus=gpus, hub_probe=hub_probe
    )
    script = ""
    if checked.profile is not None and checked.profile.launch.where == "slurm":
        shown = Path(display_run_dir())
        script = slurm_script(checked, RUN_DIR_PLACEHOLDER, shown, stage=False)
        text = f"sbatch --parsable {shown / SCRIPT_FILE}"
    else:
        command = engine_command(checked.python, "RUN_DIR", processes=checked.processes)
        text = command_text(command).replace("RUN_DIR", display_run_dir())
    if gpus is not None:
        gpu_sizes_gib = [g.memory_gib for g in gpus if g.memory_gib]
    gpu_gib = max(gpu_sizes_gib) if gpu_sizes_gib else None
    return LaunchCheck(name, checked, text, gpu_gib, redact(script))
