"""What the engine records for the calibration: the GPU, the stack, and both CUDA peaks.

CUDA is faked at torch.cuda's boundary (no GPU here); the events are the engine's own.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engines.emitter import Emitter
from engines.protocol import read_events

GIB = 1024**3


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch.cuda answering like an initialised RTX 3060 after a 5 GiB peak."""
    import torch

    props = SimpleNamespace(name="NVIDIA GeForce RTX 3060", total_memory=12 * GIB)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a, **k: 5 * GIB)
    monkeypatch.setattr(torch.cuda, "max_memory_reserved", lambda *a, **k: 6 * GIB)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda *a, **k: props)


def _events(tmp_path, device: str) -> list[dict]:
    import torch

    from engines.callbacks import EventCallback, RunInfo

    emitter = Emitter(tmp_path / "events.jsonl")
    callback = EventCallback(emitter, RunInfo("sft", "peft", device, 10))
    args = SimpleNamespace(num_train_epochs=1.0, world_size=1, output_dir=str(tmp_path))
    state = SimpleNamespace(
        is_world_process_zero=True, global_step=1, max_steps=4, epoch=0.1, num_input_tokens_seen=0
    )
    callback.on_train_begin(args, state, None, model=torch.nn.Linear(2, 2))
    callback.on_log(args, state, None, logs={"loss": 1.0})
    emitter.close()
    return read_events(tmp_path / "events.jsonl")


def test_a_cuda_run_records_the_gpu_the_stack_and_both_peaks(tmp_path, fake_cuda) -> None:
    start, step = _events(tmp_path, "cuda:0")
    assert (start["gpu_name"], start["gpu_total_bytes"]) == ("NVIDIA GeForce RTX 3060", 12 * GIB)
    assert "torch" in start["versions"] and "transformers" in start["versions"]
    assert (step["peak_mem_bytes"], step["peak_reserved_bytes"]) == (5 * GIB, 6 * GIB)


def test_a_cpu_run_names_no_gpu_and_reserves_nothing(tmp_path) -> None:
    start, step = _events(tmp_path, "cpu")
    assert "gpu_name" not in start and "torch" in start["versions"]
    assert step["peak_mem_bytes"] > 0 and "peak_reserved_bytes" not in step
