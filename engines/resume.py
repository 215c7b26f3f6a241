"""What `--resume` starts from: the newest checkpoint that loads, or nothing left to train.

A checkpoint cut short (a kill or a full disk while saving) would make the Trainer die after
the model has loaded, so each one is checked first, cheaply and without torch: the trainer
state parses, model or adapter weights are present, no weight or state file is empty, a
safetensors file holds every byte its header promises, a torch zip file still has its
central directory (what a truncation loses first). The newest that passes wins; each one
skipped is said, with why.

A run whose checkpoint is already at its last step, or whose last launch finished with an
adapter on disk, has nothing left to train: the Trainer would run one step past the end. It
is "already finished" instead, its adapter restored from that checkpoint when the final save
was cut short.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from engines.emitter import Say
from engines.protocol import ADAPTER_DIR, CHECKPOINTS_DIR, EVENTS_FILE, read_events

_CHECKPOINT = re.compile(r"checkpoint-(\d+)$")
STATE_FILE = "trainer_state.json"
_WEIGHTS = (
    "adapter_model.safetensors",
    "adapter_model.bin",
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_CHECKED = (".safetensors", ".json", ".pt", ".pth", ".bin")
"""Files that are never empty when whole."""
_TRAINER_ONLY = re.compile(r"(optimizer|scheduler|scaler)\.(pt|bin)|rng_state.*\.pth|" + STATE_FILE)
"""Checkpoint files that are not part of a saved model (what `save_model` writes)."""
_MAX_HEADER = 100 * 1024 * 1024


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, path) of every RUN_DIR/checkpoints/checkpoint-N folder, newest first."""
    found = []
    for path in (run_dir / CHECKPOINTS_DIR).glob("checkpoint-*"):
        match = _CHECKPOINT.search(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def checkpoint_problem(path: Path) -> str | None:
    """Why the Trainer could not resume from this checkpoint, or None when it looks whole."""
    state = trainer_state(path)
    if isinstance(state, str):
        return state
    return saved_model_problem(path)


def trainer_state(path: Path) -> dict[str, Any] | str:
    """The checkpoint's trainer state, or what is wrong with it."""
    try:
        state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no {STATE_FILE} (its save was cut short)"
    except (OSError, ValueError) as exc:
        return f"{STATE_FILE} cannot be read ({exc})"
    if not isinstance(state, dict) or not isinstance(state.get("global_step"), int):
        return f"{STATE_FILE} holds no global_step"
    return state


def saved_model_problem(folder: Path) -> str | None:
    """Why a saved model or adapter folder (or a checkpoint) is not whole, or None."""
    if not any((folder / name).is_file() for name in _WEIGHTS):
        return "no model or adapter weights in it"
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _CHECKED)
        for file in files:
            problem = _file_problem(file)
            if problem:
                return f"{file.name} {problem}"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def _file_problem(file: Path) -> str | None:
    size = file.stat().st_size
    if size == 0:
        return "is empty"
    if file.suffix == ".safetensors":
        return _safetensors_problem(file, size)
    if file.suffix in (".pt", ".pth", ".bin"):
        return _torch_zip_problem(file)
    return None


def _safetensors_problem(file: Path, size: int) -> str | None:
    """A safetensors file is 8 bytes of header length, the JSON header, then the data."""
    with open(file, "rb") as handle:
        length = int.from_bytes(handle.read(8), "little")
        if size < 8 or length > min(size - 8, _MAX_HEADER):
            return f"is truncated ({size} bytes)"
        try:
            header = json.loads(handle.read(length))
            ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return "has a damaged header"
    if 8 + length + max(ends, default=0) > size:
        return f"is truncated ({size} bytes, its header promises more)"
    return None


def _torch_zip_problem(file: Path) -> str | None:
    """torch.save writes a zip archive; one cut short has lost its central directory."""
    import zipfile

    with open(file, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            return None  # torch's legacy format: nothing cheap to check
    try:
        with zipfile.ZipFile(file) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        return f"is truncated or damaged ({exc})"
    return None


def resumable_checkpoint(run_dir: Path, say: Say) -> Path | None:
    """The newest checkpoint that looks whole, saying which ones were skipped and why."""
    found = checkpoints(run_dir)
    for _, path in found:
        problem = checkpoint_problem(path)
        if problem is None:
            say("info", f"resuming from {path.name}")
            return path
        say("warning", f"--resume: skipped {path.name}: {problem}")
    folder = run_dir / CHECKPOINTS_DIR
    if found:
        say("warning", f"--resume: no checkpoint in {folder} can be loaded; starting over")
    else:
        say("warning", f"--resume: no checkpoint in {folder}; starting over")
    return None


def finished_step(run_dir: Path, checkpoint: Path | None, max_steps: int) -> int | None:
    """The step a run already finished at (nothing left to train), else None. `max_steps`:
    the profile's (0: the checkpoint's own, counted from epochs)."""
    if checkpoint is not None:
        state = trainer_state(checkpoint)
        if isinstance(state, dict):
            target = max_steps if max_steps > 0 else state.get("max_steps")
            step = state["global_step"]
            if isinstance(target, int) and 0 < target <= step:
                return step
    last_end = next((e for e in reversed(_events(run_dir)) if e.get("kind") == "end"), None)
    done = (last_end or {}).get("steps_done")
    whole = saved_model_problem(run_dir / ADAPTER_DIR) is None
    if last_end and last_end.get("status") == "finished" and isinstance(done, int) and whole:
        return done
    return None


def _events(run_dir: Path) -> list[dict[str, Any]]:
    try:
        return read_events(run_dir / EVENTS_FILE)
    except OSError:
        return []


def restore_adapter(run_dir: Path, checkpoint: Path) -> Path:
    """RUN_DIR/adapter as the final save would have written it, copied from the checkpoint
    (which holds the same files plus the optimizer and trainer state)."""
    adapter = run_dir / ADAPTER_DIR
    partial = run_dir / f".{ADAPTER_DIR}.restoring"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(checkpoint, partial, ignore=_trainer_only)
    shutil.rmtree(adapter, ignore_errors=True)
    partial.rename(adapter)
    return adapter


def _trainer_only(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if _TRAINER_ONLY.fullmatch(name)]
