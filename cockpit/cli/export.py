"""`cockpit export RUN_ID --to merged|ollama|gguf`: ship what a run trained.

The work runs in an engine process under the run's training interpreter (engines/export.py:
`python -m engines export`), its progress streamed here; the result lands in the run's
`exports/` folder, whole or not at all.
"""

from __future__ import annotations

import subprocess
import sys

from cockpit.runs.engine_env import EngineCommandError, run_engine_command, run_engine_env
from cockpit.runs.store import RunStoreError, find_run, summarize_dir


def export_main(
    run_id: str, to: str, quant: str, name: str | None, system: str | None, checkpoint: int | None
) -> int:
    try:
        run = find_run(run_id)
    except RunStoreError as error:
        print(f"cockpit export: {error}", file=sys.stderr)
        return 2
    if summarize_dir(run).active:
        print(f"cockpit export: {run.id} is still training; export it once it ends",
              file=sys.stderr)  # fmt: skip
        return 2
    args = [str(run.path), "--to", to, "--quant", quant]
    args += ["--name", name] if name else []
    args += ["--system", system] if system else []
    args += ["--checkpoint", str(checkpoint)] if checkpoint is not None else []
    try:
        command = run_engine_command(run, "export", *args)
    except EngineCommandError as error:
        print(f"cockpit export: {error}", file=sys.stderr)
        return 2
    return subprocess.run(command, env=run_engine_env(run)).returncode
