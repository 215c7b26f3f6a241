"""`python -m engines probe PROFILE_PATH [--steps K] [--json]`: K real steps, their memory peaks.

The estimate is a model; this is the measurement it is checked against, on the user's own
card and stack: the profile's trainer (SFT or GRPO, its backend, quantization and
precision) runs K optimizer steps on the longest rows of the profile's real data (SFT: by
tokens after the chat template; GRPO: by prompt tokens), nothing saved, and reports
torch's peak allocated and reserved memory since the model finished loading, with the GPU
name and the stack's versions. Without CUDA it refuses (exit 2): a CPU run measures
nothing a GPU would do. A step that runs out of memory is reported as such (exit 3), with
the peak reached, never as a measurement.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from engines.profile_schema import Profile, read_profile

EXIT_OK, EXIT_NO_CUDA, EXIT_OOM = 0, 2, 3
VERSIONED = ("torch", "transformers", "trl", "peft", "bitsandbytes", "unsloth", "vllm")


def longest_rows(lengths: Sequence[int], count: int) -> list[int]:
    """Indices of the `count` longest rows, longest first (ties: file order)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return order[: max(count, 0)]


def rows_needed(profile: Profile, steps: int) -> int:
    """Rows that K optimizer steps consume: batch_size × grad_accum each."""
    return steps * profile.train.batch_size * profile.train.grad_accum


def probe_settings(profile: Profile, steps: int) -> Profile:
    """The profile as the probe runs it: K steps, no checkpoint, no eval split."""
    train = replace(profile.train, max_steps=steps, save_steps=0)
    return replace(profile, train=train, data=replace(profile.data, eval_fraction=0.0))


def versions() -> dict[str, str]:
    """Installed versions of the training stack (absent packages left out)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _lengths(trainer: Any, engine: str) -> list[int]:
    rows = trainer.train_dataset
    if engine == "grpo":
        from engines.grpo import prompt_length

        tokenizer = trainer.processing_class
        return [prompt_length(prompt, tokenizer) for prompt in rows["prompt"]]
    return [len(ids) for ids in rows["input_ids"]]


def _keep_longest(trainer: Any, engine: str, count: int) -> int:
    lengths = _lengths(trainer, engine)
    chosen = longest_rows(lengths, count)
    trainer.train_dataset = trainer.train_dataset.select(chosen)
    return min((lengths[i] for i in chosen), default=0)


def _build(profile_path: Path, steps: int, run_dir: Path, say: Callable[[str, str], None]) -> Any:
    from engines.job import Job
    from engines.modeling import choose_precision, detect_runtime
    from engines.unsloth_backend import choose_backend

    settings = probe_settings(read_profile(profile_path), steps)
    runtime = detect_runtime(say)
    backend = choose_backend(settings, runtime, say)
    precision = choose_precision(settings.model.dtype, runtime, say)
    job = Job(settings, run_dir, runtime, backend, precision, say, (profile_path.parent,))
    if settings.engine == "grpo":
        from engines import grpo as module
    else:
        from engines import sft as module  # type: ignore[no-redef]
    trainer, _ = module.build_trainer(job)
    return trainer, job


def _say(level: str, text: str) -> None:
    print(f"[probe] {level}: {text}", file=sys.stderr, flush=True)


def measure(profile_path: Path, steps: int) -> tuple[int, dict[str, Any]]:
    """(exit code, report) of K steps of the profile on this machine's CUDA GPU."""
    import torch

    if not torch.cuda.is_available():
        return EXIT_NO_CUDA, {"error": f"no CUDA GPU here (torch {torch.__version__} sees none)"}
    with tempfile.TemporaryDirectory(prefix="cockpit-probe-") as folder:
        trainer, job = _build(profile_path, steps, Path(folder), _say)
        count = rows_needed(job.settings, steps)
        shortest = _keep_longest(trainer, job.settings.engine, count)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        started = time.monotonic()
        code, error = EXIT_OK, None
        try:
            trainer.train()
        except torch.cuda.OutOfMemoryError as exc:
            code, error = EXIT_OOM, f"out of memory: {str(exc).splitlines()[0]}"
        report = {
            "allocated_bytes": int(torch.cuda.max_memory_allocated()),
            "reserved_bytes": int(torch.cuda.max_memory_reserved()),
            "gpu_name": torch.cuda.get_device_name(),
            "gpu_total_bytes": int(torch.cuda.get_device_properties(0).total_memory),
            "steps": int(trainer.state.global_step),
            "rows": count,
            "shortest_row_tokens": shortest,
            "engine": job.settings.engine,
            "backend": job.backend,
            "precision": job.precision,
            "versions": versions(),
            "seconds": round(time.monotonic() - started, 2),
        }
    if error:
        report["error"] = error
    return code, report


def format_text(report: dict[str, Any]) -> str:
    gib = 1024**3
    if "allocated_bytes" not in report:
        return f"engines probe: {report.get('error', 'failed')}"
    head = f"{report['steps']} steps on {report['gpu_name']} ({report['backend']}): "
    peaks = (
        f"peak allocated {report['allocated_bytes'] / gib:.2f} GiB, "
        f"peak reserved {report['reserved_bytes'] / gib:.2f} GiB"
    )
    return head + peaks + (f" — {report['error']}" if "error" in report else "")


def main(profile_path: str, steps: int, as_json: bool) -> int:
    """Run the probe and print its report (JSON: one object on the last line)."""
    code, report = measure(Path(profile_path), max(steps, 1))
    print(json.dumps(report) if as_json else format_text(report), flush=True)
    if code == EXIT_NO_CUDA and not as_json:
        print("engines probe: the probe measures real steps on a CUDA GPU", file=sys.stderr)
    return code
