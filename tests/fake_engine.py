"""A fake engine for the runs tests: `python -m tests.fake_engine run RUN_DIR [--resume]`.

It writes protocol events the way the real engine does, fast and without torch, and can
misbehave on purpose. `FAKE_ENGINE` (in the environment the supervisor passes on) holds
comma-separated options:

    steps=N     optimizer steps to train (default 5)
    delay=S     seconds between steps (default 0)
    gate=N      after step N, wait until RUN_DIR/gate exists (a test looks at a run that is
                surely running, however busy the machine, then lets it go on)
    then=WHAT   after the steps: finish (default) | crash:SIGNAME | raise | oom | hang | stubborn
    exit0       exit 0 at once, writing nothing (the seeds' "finished in one minute")
    endzero     write start and an end "finished" with steps_done 0
    rank        also start a "rank" in a session of its own that ignores SIGINT (as torch
                elastic starts ranks), to check that stopping reaches it

`hang` waits for SIGINT or SIGTERM, then checkpoints and ends "stopped"; `stubborn`
ignores both, so only SIGKILL ends it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from engines.protocol import ADAPTER_DIR, CHECKPOINTS_DIR, EVENTS_FILE, EventWriter


def _options() -> dict[str, str]:
    options = {}
    for item in os.environ.get("FAKE_ENGINE", "").split(","):
        key, _, value = item.strip().partition("=")
        if key:
            options[key] = value
    return options


def _last_checkpoint(run_dir: Path) -> int:
    steps = [int(p.name.split("-")[-1]) for p in (run_dir / CHECKPOINTS_DIR).glob("checkpoint-*")]
    return max(steps, default=0)


def _checkpoint(writer: EventWriter, run_dir: Path, step: int) -> None:
    path = run_dir / CHECKPOINTS_DIR / f"checkpoint-{step}"
    path.mkdir(parents=True, exist_ok=True)
    (path / "state.json").write_text(json.dumps({"step": step}))
    writer.write("checkpoint", step=step, path=str(path))


class _Stop:
    requested = False

    @classmethod
    def handler(cls, signum: int, frame: object) -> None:
        cls.requested = True


def _train(
    writer: EventWriter, first: int, total: int, delay: float, gate: tuple[int, Path] | None
) -> int:
    step = first
    for step in range(first + 1, total + 1):
        if gate is not None and step == gate[0] + 1:
            while not gate[1].exists() and not _Stop.requested:
                time.sleep(0.02)
        if delay:
            time.sleep(delay)
        loss = 3.0 / step
        print(f"fake engine: step {step}/{total} loss {loss:.4f}", flush=True)
        writer.write(
            "step", step=step, epoch=step / total, loss=loss, lr=1e-3, grad_norm=1.0,
            tokens_per_s=1000.0 + step, tokens=2048.0 * step, peak_mem_bytes=1 << 20,
        )  # fmt: skip
        if _Stop.requested:
            break
    return step


def _after(then: str, writer: EventWriter, run_dir: Path, step: int) -> int:
    if then.startswith("crash:"):
        print(f"fake engine: dying with {then[6:]}", flush=True)
        os.kill(os.getpid(), getattr(signal, then[6:]))
        time.sleep(10)
    if then == "raise":
        try:
            raise ValueError("column 'messages' not found in the data")
        except ValueError as exc:
            traceback.print_exc()
            writer.write("end", status="failed", steps_done=step, error_class=type(exc).__name__,
                         error_message=str(exc), adapter_path=None)  # fmt: skip
            return 1
    if then == "oom":  # as torch words it (a known problem in cockpit's catalog)
        message = (
            "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
            "3.68 GiB of which 1.02 GiB is free."
        )
        print("Traceback (most recent call last):", flush=True)
        print(f"torch.OutOfMemoryError: {message}", flush=True)
        writer.write("end", status="failed", steps_done=step, error_class="OutOfMemoryError",
                     error_message=message, adapter_path=None)  # fmt: skip
        return 1
    if then in ("hang", "stubborn"):
        if then == "stubborn":
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("fake engine: waiting to be stopped", flush=True)
        while not _Stop.requested:
            time.sleep(0.02)
        _checkpoint(writer, run_dir, step)
        writer.write("end", status="stopped", steps_done=step, error_class=None,
                     error_message=None, adapter_path=None)  # fmt: skip
        return 0
    adapter = run_dir / ADAPTER_DIR
    adapter.mkdir(exist_ok=True)
    (adapter / "adapter_config.json").write_text("{}")
    writer.write("end", status="finished", steps_done=step, error_class=None,
                 error_message=None, adapter_path=str(adapter))  # fmt: skip
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] != ["run"] or len(argv) < 2:
        print("usage: python -m tests.fake_engine run RUN_DIR [--resume]", file=sys.stderr)
        return 2
    run_dir, resume, options = Path(argv[1]), "--resume" in argv, _options()
    if "exit0" in options:
        return 0
    import engines

    print(f"fake engine: PYTHONPATH={os.environ.get('PYTHONPATH')}", flush=True)
    print(f"fake engine: engines from {Path(engines.__file__).parent.parent}", flush=True)
    print(f"fake engine: unbuffered={os.environ.get('PYTHONUNBUFFERED')}", flush=True)
    signal.signal(signal.SIGINT, _Stop.handler)
    signal.signal(signal.SIGTERM, _Stop.handler)
    if "rank" in options:
        code = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"
        subprocess.Popen([sys.executable, "-c", code, "run", str(run_dir)], start_new_session=True)
    total = int(options.get("steps", "5"))
    first = _last_checkpoint(run_dir) if resume else 0
    with EventWriter(run_dir / EVENTS_FILE) as writer:
        writer.write(
            "start", steps=total, epochs=1, examples=total * 8, trainable_params=1000,
            total_params=100000, backend="peft", device="cpu", engine="sft", world_size=1,
            resumed_from=first if resume else None,
        )  # fmt: skip
        if "endzero" in options:
            writer.write("end", status="finished", steps_done=0, adapter_path=None)
            return 0
        gate = (int(options["gate"]), run_dir / "gate") if "gate" in options else None
        step = _train(writer, first, total, float(options.get("delay", "0")), gate)
        if _Stop.requested:
            return _after("hang", writer, run_dir, step)
        return _after(options.get("then", "finish"), writer, run_dir, step)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
