"""Known causes of failed runs that can be seen before the run starts, caught by pre-flight.

Each check returns refusals tagged with the catalog id (cockpit/knowledge/catalog.toml) of the
failure it prevents, so pre-flight and `cockpit explain` on the failed run's log say the same
thing. What the engine would survive is a warning, what would end it is a refusal:
- bf16 on a GPU without it: the engine trains in fp16 instead (engines/modeling.py) → warning;
- FlashAttention 2 on a GPU below compute capability 8.0: loading the model fails → refusal
  (these two are the Profiles place's rules too: cockpit/profiles/gpu_rules.py);
- packing with less data than one packed batch: TRL packs it all into one short batch and
  trains a step (TRL 1.16, measured) → warning;
- the exact_match reward without an `answer` column: its first call raises → refusal;
- a driver older than the training torch's CUDA: torch sees no GPU → refusal.
Nothing here imports torch or tokenizes: data is judged from its size and its first rows.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from cockpit.hardware.cuda import cuda_tuple, driver_too_old
from cockpit.hardware.snapshot import GpuTraits
from cockpit.profiles.gpu_rules import gpu_problems
from cockpit.runs.refusal import Refusal, from_problem
from engines.profile_schema import Profile

PACKING_CAUSE = "sft_packing_too_few_samples"
REWARD_COLUMN_CAUSE = "grpo_reward_missing_dataset_column"
DRIVER_CAUSE = "cuda_driver_too_old"

REWARD_COLUMNS = {"exact_match": "answer"}
"""The dataset column each built-in reward reads (engines/rewards.py; a test keeps them equal)."""
GRPO_FORMATS = (
    ("chat", "messages"),
    ("instruction", "instruction"),
    ("prompt-completion", "prompt"),
    ("text", "text"),
)
"""The engine's GRPO data formats in detection order, each with the column it needs
(engines/data.py; a test keeps them equal)."""
ANSWER_FROM_REPLY = ("chat", "instruction")
"""Formats whose reference reply becomes the `answer` when the data has none."""
BYTES_PER_TOKEN = 4
"""A generous token count: JSON keys and quotes count as text too."""
PEEK_ROWS = 20
_READ_LIMIT = 64 * 1024 * 1024
TORCH_TIMEOUT_S = 10.0


def known_causes(
    profile: Profile,
    data: Path | str,
    gpus: Sequence[GpuTraits],
    processes: int,
    python: str | None,
) -> tuple[list[Refusal], list[Refusal]]:
    """(refusals, warnings) for the catalog's preventable causes. `data` is the resolved
    data path (a str is a dataset id: not read); `python` the training interpreter, None
    when it is missing."""
    refusals, warnings = gpu_checks(profile, gpus, processes)
    if isinstance(data, Path) and data.is_file():
        refusals += filter(None, [reward_column_check(profile, data)])
        warnings += filter(None, [packing_check(profile, data)])
    if python is not None and any(cuda_tuple(g.cuda_driver_version) for g in gpus):
        refusals += driver_check(gpus, torch_cuda_version(python), python)
    return refusals, warnings


# -- the GPU: bf16 and FlashAttention 2 need compute capability 8.0 (profiles/gpu_rules) ----


def training_card(gpus: Sequence[GpuTraits], processes: int) -> GpuTraits | None:
    """The GPU a run's capability is judged on: the oldest of several processes' cards; one
    process trains on CUDA's first device, the fastest (CUDA_DEVICE_ORDER=FASTEST_FIRST).
    A Mac's one GPU (unified memory) is judged by its own traits."""
    known = [g for g in gpus if g.compute_capability or g.unified_memory]
    if not known:
        return None
    pick = min if processes > 1 else max
    return pick(known, key=lambda g: tuple(g.compute_capability or ()))


def gpu_checks(
    profile: Profile, gpus: Sequence[GpuTraits], processes: int
) -> tuple[list[Refusal], list[Refusal]]:
    """FlashAttention 2 (refused) and bf16 (warned) on a card older than Ampere."""
    problems = gpu_problems(profile.model, training_card(gpus, processes))
    refusals = [from_problem(p, "hardware") for p in problems if p.severity == "error"]
    warnings = [from_problem(p, "hardware") for p in problems if p.severity == "warning"]
    return refusals, warnings


# -- the driver against the training torch's CUDA -----------------------------------------


def driver_check(gpus: Sequence[GpuTraits], torch_cuda: str | None, python: str) -> list[Refusal]:
    """Refused when the driver is older than the CUDA the training torch was built for."""
    drivers = [g.cuda_driver_version for g in gpus if cuda_tuple(g.cuda_driver_version)]
    if not drivers or torch_cuda is None:
        return []
    driver = min(drivers, key=lambda v: cuda_tuple(v) or (0, 0))
    if not driver_too_old(driver, torch_cuda):
        return []
    message = (
        f"{python} has a torch built for CUDA {torch_cuda}, but the NVIDIA driver supports "
        f"CUDA up to {driver}: CUDA cannot start, so the run would find no GPU"
    )
    fix = (
        f"update the NVIDIA driver (nvidia-smi shows its CUDA), or install a torch built for "
        f"CUDA {driver} or older into that environment (`cockpit doctor` prints the command)"
    )
    return [Refusal("env.python", message, fix, "env", DRIVER_CAUSE)]


def torch_cuda_version(python: str, timeout: float = TORCH_TIMEOUT_S) -> str | None:
    """`torch.version.cuda` of the interpreter's torch, read from torch/version.py without
    importing torch; None for a CPU build, no torch, or no answer."""
    folder = _torch_folder(python, timeout)
    if not folder:
        return None
    try:
        text = (Path(folder) / "version.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^cuda\b[^=\n]*=\s*['\"]([\d.]+)['\"]", text, re.MULTILINE)
    return match.group(1) if match else None


_FIND_TORCH = (
    "import importlib.util as u; s = u.find_spec('torch'); "
    "print(list(s.submodule_search_locations or [''])[0] if s else '')"
)


def _torch_folder(python: str, timeout: float) -> str | None:
    """Where the interpreter's torch package lives (find_spec imports nothing)."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        try:
            spec = importlib.util.find_spec("torch")
        except (ImportError, ValueError):
            return None
        return next(iter(spec.submodule_search_locations or [""])) if spec else None
    try:
        done = subprocess.run(
            [python, "-I", "-c", _FIND_TORCH],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[-1] if done.returncode == 0 and lines else None


# -- the data: packing and reward columns ---------------------------------------------------


def packing_check(profile: Profile, data: Path) -> Refusal | None:
    """Warned when even a generous token count cannot fill one packed batch."""
    if profile.engine != "sft" or not profile.train.packing:
        return None
    try:
        size = data.stat().st_size
    except OSError:
        return None
    length, batch = profile.model.max_seq_length, profile.train.batch_size
    needed, tokens = length * batch, size // BYTES_PER_TOKEN
    if tokens >= needed:
        return None
    rows = count_rows(data)
    shown = "an unknown number of" if rows is None else str(rows)
    message = (
        f"{data.name} holds {shown} rows: about {tokens} tokens at most "
        f"({size} bytes ÷ {BYTES_PER_TOKEN}), and one packed batch is max_seq_length {length} "
        f"× batch_size {batch} = {needed} tokens: packed, all of it fits in "
        f"{max(1, math.ceil(tokens / length))} of the batch's {batch} sequences, so each epoch "
        "is a single step"
    )
    fix = f"set train.packing = false, or add data (at least {needed} tokens)"
    return Refusal("train.packing", message, fix, "data", PACKING_CAUSE, "true")


def reward_column_check(profile: Profile, data: Path) -> Refusal | None:
    """Refused when a built-in reward reads a column the data has not got."""
    if profile.engine != "grpo" or profile.grpo is None:
        return None
    rewards = profile.grpo.rewards
    needs = [(name, REWARD_COLUMNS[name]) for name in rewards if name in REWARD_COLUMNS]
    columns = first_columns(data) if needs else None
    if not columns or grpo_format(profile.data.format, columns) not in ("prompt-completion",):
        return None  # chat/instruction rows give their reply as the answer
    for name, column in needs:
        if column in columns:
            continue
        others = [r for r in rewards if r != name] or ["format"]
        message = (
            f'"{name}" reads each row\'s "{column}", but the first rows of {data.name} have '
            f"only {', '.join(sorted(columns))}: its first call fails"
        )
        fix = (
            f'add an "{column}" field to every row of data.path, or drop "{name}": '
            f"set grpo.rewards = {_toml_list(others)}"
        )
        shown = _toml_list(rewards)
        return Refusal("grpo.rewards", message, fix, "data", REWARD_COLUMN_CAUSE, shown)
    return None


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def grpo_format(wanted: str, columns: set[str]) -> str | None:
    """The format the engine reads GRPO rows as; None when it would refuse the data."""
    for name, column in GRPO_FORMATS:
        if wanted in ("auto", name) and column in columns:
            return name
    return None


def first_columns(data: Path, rows: int = PEEK_ROWS) -> set[str] | None:
    """The keys of the first rows of a .jsonl/.json/.csv/.tsv file; None when unknown."""
    suffix = data.suffix.lower()
    try:
        with open(data, encoding="utf-8-sig", errors="replace", newline="") as handle:
            if suffix in (".csv", ".tsv"):
                header = next(csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ","))
                return {name.strip() for name in header if name.strip()} or None
            if suffix == ".jsonl":
                found = [json.loads(line) for line in _lines(handle, rows)]
            elif suffix == ".json" and data.stat().st_size <= _READ_LIMIT:
                found = json.load(handle)
                found = found[:rows] if isinstance(found, list) else []
            else:
                return None
    except (OSError, ValueError, StopIteration, RecursionError):
        return None
    keys = {str(k) for row in found if isinstance(row, dict) for k in row}
    return keys or None


def _lines(handle: Iterable[str], count: int) -> list[str]:
    """The first `count` non-blank lines."""
    lines: list[str] = []
    for line in handle:
        if line.strip():
            lines.append(line)
            if len(lines) == count:
                break
    return lines


def count_rows(data: Path) -> int | None:
    """Examples in a small .jsonl/.json/.csv/.tsv file (not tokenized); None when unknown."""
    suffix = data.suffix.lower()
    try:
        if data.stat().st_size > _READ_LIMIT:
            return None
        text = data.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    lines = [line for line in text.splitlines() if line.strip()]
    if suffix == ".jsonl":
        return len(lines)
    if suffix in (".csv", ".tsv"):
        return max(len(lines) - 1, 0)
    if suffix == ".json":
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None
        return len(value) if isinstance(value, list) else None
    return None
