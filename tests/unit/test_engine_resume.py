"""Which checkpoint `--resume` starts from, and when there is nothing left to train: the
cheap checks of `engines.resume` on hand-made checkpoint folders (no torch)."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from engines.protocol import ADAPTER_DIR, CHECKPOINTS_DIR, EVENTS_FILE
from engines.resume import (
    checkpoint_problem,
    finished_step,
    restore_adapter,
    resumable_checkpoint,
)


def _safetensors(path: Path, payload: bytes = b"\0" * 64) -> None:
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, len(payload)]}}
    ).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + payload)


def _torch_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00." * 50)
        archive.writestr("archive/data/0", b"\1" * 4096)


def _checkpoint(run_dir: Path, step: int, max_steps: int = 10) -> Path:
    path = run_dir / CHECKPOINTS_DIR / f"checkpoint-{step}"
    path.mkdir(parents=True)
    _safetensors(path / "adapter_model.safetensors")
    (path / "adapter_config.json").write_text('{"r": 8}')
    _torch_zip(path / "optimizer.pt")
    _torch_zip(path / "rng_state.pth")
    state = {"global_step": step, "max_steps": max_steps}
    (path / "trainer_state.json").write_text(json.dumps(state))
    return path


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda p: _cut(p / "optimizer.pt"), "optimizer.pt is truncated"),
        (lambda p: _cut(p / "adapter_model.safetensors"), "adapter_model.safetensors is trunc"),
        (lambda p: (p / "rng_state.pth").write_bytes(b""), "rng_state.pth is empty"),
        (lambda p: (p / "trainer_state.json").unlink(), "no trainer_state.json"),
        (lambda p: (p / "trainer_state.json").write_text("{"), "cannot be read"),
        (lambda p: (p / "adapter_model.safetensors").unlink(), "no model or adapter weights"),
    ],
)
def test_a_damaged_checkpoint_is_named_with_what_is_wrong(tmp_path, damage, said):
    path = _checkpoint(tmp_path, 4)
    assert checkpoint_problem(path) is None
    damage(path)
    assert said in (checkpoint_problem(path) or "")


def test_resume_falls_back_past_every_checkpoint_that_does_not_load(tmp_path):
    for step in (2, 4, 6, 8):
        _checkpoint(tmp_path, step)
    _cut(tmp_path / CHECKPOINTS_DIR / "checkpoint-8" / "optimizer.pt")
    (tmp_path / CHECKPOINTS_DIR / "checkpoint-6" / "trainer_state.json").unlink()
    said: list[tuple[str, str]] = []
    chosen = resumable_checkpoint(tmp_path, lambda level, text: said.append((level, text)))
    assert chosen is not None and chosen.name == "checkpoint-4"
    assert [level for level, _ in said] == ["warning", "warning", "info"]
    assert "skipped checkpoint-8: optimizer.pt" in said[0][1]
    assert "skipped checkpoint-6: no trainer_state.json" in said[1][1]
    assert said[2][1] == "resuming from checkpoint-4"


def test_without_a_loadable_checkpoint_resume_starts_over_and_says_so(tmp_path):
    _cut(_checkpoint(tmp_path, 2) / "optimizer.pt")
    said: list[str] = []
    assert resumable_checkpoint(tmp_path, lambda level, text: said.append(text)) is None
    assert "skipped checkpoint-2" in said[0] and "starting over" in said[-1]


def test_a_checkpoint_at_the_last_step_has_nothing_left_to_train(tmp_path):
    last = _checkpoint(tmp_path, 10, max_steps=10)
    assert finished_step(tmp_path, last, max_steps=10) == 10
    assert finished_step(tmp_path, last, max_steps=0) == 10  # epochs: the state's own count
    assert finished_step(tmp_path, last, max_steps=20) is None  # the run was made longer
    assert finished_step(tmp_path, _checkpoint(tmp_path, 6), max_steps=10) is None


def test_a_finished_launch_with_its_adapter_has_nothing_left_to_train(tmp_path):
    middle = _checkpoint(tmp_path, 6)
    end = {"t": 1.0, "kind": "end", "status": "finished", "steps_done": 10}
    (tmp_path / EVENTS_FILE).write_text(json.dumps(end) + "\n")
    assert finished_step(tmp_path, middle, max_steps=10) is None  # no adapter on disk
    adapter = restore_adapter(tmp_path, middle)
    assert finished_step(tmp_path, middle, max_steps=10) == 10
    assert adapter == tmp_path / ADAPTER_DIR
    names = sorted(p.name for p in adapter.iterdir())
    assert names == ["adapter_config.json", "adapter_model.safetensors"]
