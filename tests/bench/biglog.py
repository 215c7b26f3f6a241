"""A generated 200 MB, ~3M-line training log for the log viewer and explain benchmarks.

It looks like what a long TRL/HF Trainer run writes: tqdm progress updates (``\\r``),
metric dicts, periodic checkpoint saves and ordinary warnings, with a few known failures
planted at known lines (a nan loss in the middle, a token on a command line, a CUDA
out-of-memory traceback at the end).
"""

from __future__ import annotations

from pathlib import Path

TARGET_BYTES = 200 * 1024 * 1024
PLANTED_TOKEN = "hf_PlantedBenchToken0123456789abcd"


def _block(start_step: int, steps: int) -> str:
    lines: list[str] = []
    for step in range(start_step, start_step + steps):
        loss, grad_norm = 2.5 - (step % 997) / 1000, 0.3 + (step % 13) / 50
        lines.append(
            f"{{'loss': {loss:.4f}, 'grad_norm': {grad_norm:.4f}, "
            f"'learning_rate': {2e-4 * (1 - step / 4e6):.3e}, 'num_tokens': {step * 2048}.0, "
            f"'mean_token_accuracy': 0.{5000 + step % 4000}, 'epoch': {step / 1e5:.4f}}}"
        )
        lines.append(
            f" {step % 100:>3d}%|{'#' * (step % 10):<10}| {step}/4000000 "
            f"[{step // 3600:02d}:{step // 60 % 60:02d}<99:00:00, 1.{step % 90:02d}it/s]"
        )
        if step % 500 == 0:
            lines.append(f"Saving model checkpoint to outputs/checkpoint-{step}")
        if step % 2000 == 0:
            lines.append(
                "UserWarning: `use_cache=True` is incompatible with gradient checkpointing. "
                "Setting `use_cache=False`."
            )
    return "\n".join(lines) + "\n"


def write_training_log(path: Path, target_bytes: int = TARGET_BYTES) -> dict[str, int]:
    """Write the log; return the 1-based line numbers of the planted findings."""
    planted: dict[str, int] = {}
    line = 0
    step = 1
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"$ accelerate launch -m engines.run --hub-token {PLANTED_TOKEN}\n")
        planted["token"] = 1
        line = 1
        written = 0
        while written < target_bytes - 4096:
            block = _block(step, 1000)
            out.write(block)
            written += len(block)
            line += block.count("\n")
            step += 1000
            if "loss_nan" not in planted and written > target_bytes // 2:
                out.write("{'loss': nan, 'grad_norm': nan, 'learning_rate': 1e-4, 'epoch': 20.0}\n")
                line += 1
                planted["loss_nan"] = line
        tail = (
            "Traceback (most recent call last):\n"
            '  File "train.py", line 88, in <module>\n'
            "    trainer.train()\n"
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has "
            "a total capacity of 3.68 GiB of which 1.10 GiB is free.\n"
        )
        out.write(tail)
        planted["cuda_oom"] = line + 4
    return planted
