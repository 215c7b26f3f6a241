"""Pre-flight: everything that can be known to fail before a run is spawned, refused early.

A user should not wait for a model to load to learn that a path is wrong. Each refusal
names the profile key and the fix. Exit codes follow `cockpit estimate`: 2 for a profile,
data, model or interpreter problem, 4 when the only problem is that it won't fit the GPU
(overridable with force). With no GPU detected, VRAM is never a reason to refuse. The known
causes of failed runs that show before the start (`cockpit.runs.preventable`) are refused or
warned with their catalog id; so are a model that is neither a local folder, nor in the
Hugging Face cache, nor on a reachable hub (`cockpit.runs.model_source`), a training
interpreter without the training stack (`cockpit.runs.stack_check`), and the fallbacks the
engine would take on this machine (`cockpit.runs.fallbacks`, warnings).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cockpit.hardware.snapshot import GpuTraits
from cockpit.paths import runs_root
from cockpit.profiles.rules import GRPO_BATCH_CAUSE, grpo_batch_rule
from cockpit.profiles.store import (
    LoadedProfile,
    ProfileSource,
    loaded_profile,
    resolve_data_path,
)
from cockpit.runs import stack_check
from cockpit.runs.data_preflight import DataCheck, data_check_findings, default_data_check
from cockpit.runs.engine_env import ENGINE_MODULE_ENV
from cockpit.runs.fallbacks import fallback_warnings
from cockpit.runs.interpreter import training_interpreter
from cockpit.runs.model_source import Probe, check_model, default_probe
from cockpit.runs.preventable import known_causes
from cockpit.runs.refusal import FORCE, Refusal, from_problem
from cockpit.runs.remote_check import (
    asks_remote_gpus,
    launch_refusals,
    remote_cards,
    remote_processes,
)
from cockpit.runs.stack_check import TrainingStack
from cockpit.runs.vllm_check import vllm_warning
from engines.profile_schema import Profile

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_WONT_FIT", "Preflight", "PreflightError", "Refusal"]

EXIT_OK, EXIT_INVALID, EXIT_WONT_FIT = 0, 2, 4
_SCAN_LIMIT = 64 * 1024 * 1024
"""Data files above this size are not parsed to check for emptiness."""


@dataclass(frozen=True)
class Preflight:
    """The verdict on starting a profile: refusals, notes, VRAM verdict, process count."""

    profile_path: Path
    profile: Profile | None
    refusals: tuple[Refusal, ...] = ()
    notes: tuple[str, ...] = ()
    verdict: str | None = None
    """The VRAM verdict against the detected GPU ("no GPU" without one)."""
    processes: int = 1
    """Training processes: > 1 launches through accelerate."""
    python: str = field(default_factory=lambda: sys.executable)
    loaded: LoadedProfile | None = field(default=None, repr=False, compare=False)
    """The file as read for this check: the run is created from it, not from a new read."""
    warnings: tuple[Refusal, ...] = ()
    """Known causes the engine survives (bf16 on a card without it) and the fallbacks it
    will take (4-bit without CUDA): it starts, warned; each is also in `notes`."""
    stack: TrainingStack | None = None
    """The training interpreter's stack; None when not asked (a test engine, no profile)."""

    @property
    def ok(self) -> bool:
        return not self.refusals

    @property
    def exit_code(self) -> int:
        if not self.refusals:
            return EXIT_OK
        return EXIT_WONT_FIT if all(r.kind == "vram" for r in self.refusals) else EXIT_INVALID

    def describe(self, force_key: str = "--force") -> str:
        """Refusals (then notes) as lines for a terminal; `force_key` as the face names it."""
        lines = [f"refused to start {self.profile_path}:"] if self.refusals else []
        lines += [f"  {r.shown(force_key)}" for r in self.refusals]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


class PreflightError(Exception):
    """Starting was refused; `preflight` holds the reasons."""

    def __init__(self, preflight: Preflight) -> None:
        super().__init__(preflight.describe())
        self.preflight = preflight


def preflight(
    source: ProfileSource,
    *,
    force: bool = False,
    gpu_sizes_gib: Sequence[float] | None = None,
    gpus: Sequence[GpuTraits] | None = None,
    hub_probe: Probe | Literal["auto"] | None = "auto",
    stack_probe: Callable[[str], TrainingStack] | Literal["auto"] | None = "auto",
    data_check: DataCheck | Literal["auto"] | None = "auto",
) -> Preflight:
    """Check a profile (a file, or one already loaded) before spawning.

    The GPUs: `gpus` (their memory, compute capability and driver), else `gpu_sizes_gib`
    (memory only), else detected (NVML). `hub_probe` asks the hub about a model that is not
    in the cache ("auto": `model_source.default_probe()`, None: never); `stack_probe` reads
    the training interpreter's stack ("auto": `stack_check.training_stack`, None: not checked);
    `data_check` runs the engine's data check ("auto": the quick one unless
    COCKPIT_DATA_PREFLIGHT=0, None: not run).
    """
    loaded = loaded_profile(source)
    path = loaded.path
    if loaded.profile is None:
        return Preflight(path, None, tuple(_profile_refusals(loaded)), loaded=loaded)
    profile = loaded.profile
    remote = profile.launch.where != "local"  # the GPUs are the nodes', not this machine's
    cards = remote_cards(profile) if remote else _cards(gpu_sizes_gib, gpus)
    sizes = tuple(g.memory_gib for g in cards if g.memory_gib)
    refusals, notes = [], [str(p) for p in loaded.problems]  # a warning says "warning: …"
    data = resolve_data_path(profile, path)
    refusals += _data_refusals(data, notes)
    probe = default_probe() if hub_probe == "auto" else hub_probe
    model_refusals, model_notes = check_model(profile.model.name_or_path, probe)
    refusals += model_refusals
    notes += model_notes
    python, env_refusals = training_interpreter(profile)
    stack = _stack(python, stack_probe) if not env_refusals else None
    env_refusals += _stack_refusals(profile, stack)
    if stack is not None and stack.error:
        notes.append(f"could not check the training stack: {stack.error}")
    refusals += env_refusals
    processes, gpu_refusals = (
        (remote_processes(profile), []) if remote else _processes(profile, sizes)
    )
    refusals += gpu_refusals + _grpo_refusals(profile, processes)
    launch_found, launch_notes = launch_refusals(profile, runs_root(), python, data)
    refusals += launch_found
    notes += launch_notes
    trained_by = None if env_refusals else python
    known, warnings = known_causes(profile, data, cards, processes, trained_by)
    if not (asks_remote_gpus(profile) and not cards):
        warnings += fallback_warnings(profile, cards, stack)  # unknowable for unseen GPUs
    check = default_data_check() if data_check == "auto" else data_check
    if isinstance(data, Path) and not refusals and check is not None:
        data_found, data_warned, data_notes = data_check_findings(path, python, data, check, force)
        refusals += data_found
        warnings += data_warned
        notes += data_notes
    vllm = vllm_warning(profile, python) if trained_by else None
    refusals += [vllm] if vllm is not None else []  # the engine would stop at its start
    notes += [w.as_warning() for w in warnings]
    verdict, vram = _vram(profile, sizes, force, notes)
    return Preflight(
        path,
        profile,
        tuple(refusals + known + vram),
        tuple(notes),
        verdict,
        processes,
        python,
        loaded,
        tuple(warnings),
        stack,
    )


def _cards(
    sizes: Sequence[float] | None, gpus: Sequence[GpuTraits] | None
) -> tuple[GpuTraits, ...]:
    if gpus is not None:
        return tuple(gpus)
    if sizes is not None:
        return tuple(GpuTraits("", size) for size in sizes)
    return detect_gpus()


def _profile_refusals(loaded: LoadedProfile) -> list[Refusal]:
    if loaded.error:
        return [Refusal("", loaded.error, "fix the file so it reads as TOML")]
    return [from_problem(p) for p in loaded.problems if p.severity == "error"]


def _data_refusals(data: Path | str, notes: list[str]) -> list[Refusal]:
    if isinstance(data, str):
        notes.append(f"data.path {data!r} is a dataset id: the engine downloads it (needs the hub)")
        return []
    fix = (
        "set data.path to a local .jsonl/.json/.csv/.parquet file (relative paths are looked "
        "up next to the profile) or to a dataset id such as 'org/name'"
    )
    if not data.exists():
        return [Refusal("data.path", f"no file {data}", fix, "data")]
    if data.is_file() and _is_empty(data):
        return [
            Refusal(
                "data.path",
                f"{data} holds no examples",
                "add examples to it (one JSON object per line for .jsonl) or point data.path "
                "at the right file",
                "data",
            )
        ]
    return []


def _is_empty(path: Path) -> bool:
    """True when a data file visibly holds no example (unparsed formats: only size 0)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return True
        suffix = path.suffix.lower()
        if size > _SCAN_LIMIT or suffix in (".parquet", ".arrow"):
            return False
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return False
    lines = [line for line in text.splitlines() if line.strip()]
    if suffix in (".csv", ".tsv"):
        return len(lines) < 2  # a header alone
    if suffix == ".json":
        try:
            value = json.loads(text)
        except ValueError:
            return False
        return isinstance(value, (list, dict)) and not value
    return not lines


def _stack(
    python: str, probe: Callable[[str], TrainingStack] | Literal["auto"] | None
) -> TrainingStack | None:
    """The interpreter's stack, unless not asked for or a test engine stands in."""
    if probe is None or os.environ.get(ENGINE_MODULE_ENV, "engines") != "engines":
        return None
    return (stack_check.training_stack if probe == "auto" else probe)(python)


def _stack_refusals(profile: Profile, stack: TrainingStack | None) -> list[Refusal]:
    if stack is None or not stack.missing:
        return []
    key = "env.python" if profile.env.python.strip() else ""
    message = (
        f"the training stack is missing: {stack.python} cannot import "
        f"{', '.join(stack.missing)}, so the engine would die at its first import"
    )
    fix = f"install it: {stack.install_command}"
    if key:
        fix += "; or set env.python to an environment that has it (`cockpit doctor --python`)"
    return [Refusal(key, message, fix, "env")]


def _processes(profile: Profile, gpus: tuple[float, ...]) -> tuple[int, list[Refusal]]:
    wanted = profile.hardware.gpus
    if wanted == "auto":
        return max(len(gpus), 1), []
    if wanted > 1 and gpus and wanted > len(gpus):
        found = f"{len(gpus)} GPU{'s' * (len(gpus) != 1)}"
        fix = f'set hardware.gpus to {len(gpus)} or fewer, or "auto"'
        return wanted, [Refusal("hardware.gpus", f"{wanted} asked, {found} found", fix, "hardware")]
    return max(wanted, 1), []


def _grpo_refusals(profile: Profile, processes: int) -> list[Refusal]:
    """What TRL's GRPOConfig would refuse once the model has loaded, with the process count
    known now (hardware.gpus = "auto")."""
    if profile.engine != "grpo" or profile.grpo is None:
        return []
    train, grpo = profile.train, profile.grpo
    broken = grpo_batch_rule(train.batch_size, train.grad_accum, processes, grpo.num_generations)
    if broken is None:
        return []
    return [Refusal("grpo.num_generations", *broken, catalog_id=GRPO_BATCH_CAUSE)]


def _vram(
    profile: Profile, gpus: tuple[float, ...], force: bool, notes: list[str]
) -> tuple[str | None, list[Refusal]]:
    if not gpus:
        return "no GPU", []
    from cockpit.vram.estimate import estimate
    from cockpit.vram.specs import UnknownModel

    try:
        result = estimate(profile, max(gpus))
    except UnknownModel as exc:
        notes.append(f"no VRAM estimate: {exc}")
        return None, []
    if result.verdict != "won't fit":
        return result.verdict, []
    usable = result.usable_gib or 0.0
    message = f"won't fit: needs about {result.total_gib:.2f} GiB of {usable:.2f} GiB usable"
    tips = "; ".join(f"{s.change} ({s.total_gib:.2f} GiB, {s.verdict})" for s in result.suggestions)
    if force:
        notes.append(f"{message}; starting anyway (--force)")
        return result.verdict, []
    fix = (tips or "use a smaller model or a shorter max_seq_length") + f"; or {FORCE} to try"
    return result.verdict, [Refusal("", message, fix, "vram")]


def detect_gpus() -> tuple[GpuTraits, ...]:
    """Every GPU NVML reports (memory, compute capability, driver); empty without one."""
    from cockpit.hardware.sampler import detected_gpu_traits

    return detected_gpu_traits()
