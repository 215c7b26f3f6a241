"""Run `python -m engines trace` in a child process and read its numbers back.

The trace imports torch and transformers, so it never runs in cockpit's process; it runs
under the profile's training interpreter (like the doctor's probes), which may be a
different environment, and finds the `engines` package through PYTHONPATH. For hub ids
the engine cannot resolve offline, cockpit passes the catalog's architecture as a
config.json.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit.isolated import run_isolated
from cockpit.vram.resolve import resolve_model
from cockpit.vram.specs import UnknownModel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_TIMEOUT_S = 120.0
_ENGINES_ROOT = Path(__file__).resolve().parents[2]
"""The folder that holds the `engines` package (cockpit's installation or checkout)."""
_TAIL = 1500


class TraceFailed(Exception):
    """The trace could not run or did not report; the message says why."""


@dataclass(frozen=True)
class TraceResult:
    """What the trace counted (bytes unless named otherwise)."""

    params: int
    trainable_params: int
    activations_off_bytes: int
    """Saved activations without checkpointing (parameters excluded)."""
    activations_on_bytes: int
    """Saved activations with per-layer checkpointing (the held layer inputs)."""
    layer_max_bytes: int
    gradient_bytes: int
    optimizer_bytes: int
    seconds: float
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TraceResult:
        names = [f for f in cls.__dataclass_fields__ if f != "raw"]
        missing = [n for n in names if n not in data]
        if missing:
            raise TraceFailed(f"the trace did not report {', '.join(missing)}")
        return cls(**{n: data[n] for n in names}, raw=dict(data))


def _model_name(profile_path: Path) -> str:
    try:
        with open(profile_path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, ValueError) as exc:
        raise TraceFailed(f"cannot read {profile_path}: {exc}") from exc
    model = data.get("model")
    return str(model.get("name_or_path", "")) if isinstance(model, dict) else ""


def _config_file(name: str, folder: Path) -> Path | None:
    """A config.json from the catalog for hub ids; None when the engine can find it itself."""
    if not name or Path(name).expanduser().is_dir() or name.startswith("cockpit:"):
        return None
    try:
        resolved = resolve_model(name)
    except UnknownModel as exc:
        raise TraceFailed(str(exc)) from exc
    path = folder / "config.json"
    path.write_text(json.dumps(resolved.spec.hf_config()), encoding="utf-8")
    return path


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(_ENGINES_ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in parts if p)
    return env


def trace_estimate(
    profile_path: str | os.PathLike[str],
    python: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> TraceResult:
    """Trace one profile under `python` (default: this interpreter); raises TraceFailed."""
    path = Path(profile_path)
    with tempfile.TemporaryDirectory(prefix="cockpit-trace-") as folder:
        config = _config_file(_model_name(path), Path(folder))
        argv = [python or sys.executable, "-m", "engines", "trace", str(path), "--json"]
        if config is not None:
            argv += ["--config", str(config)]
        outcome = run_isolated(argv, timeout, env=_environment())
    if outcome.start_error:
        raise TraceFailed(f"could not start {argv[0]}: {outcome.start_error}")
    if outcome.timed_out:
        raise TraceFailed(f"the trace took more than {timeout:g} s and was stopped")
    if outcome.returncode != 0:
        how = outcome.signal_name or f"exit code {outcome.returncode}"
        raise TraceFailed(f"the trace failed ({how}): {outcome.stderr.strip()[-_TAIL:]}")
    lines = outcome.stdout.strip().splitlines()
    try:
        return TraceResult.from_json(json.loads(lines[-1]))
    except (IndexError, ValueError, TypeError) as exc:
        raise TraceFailed(f"the trace printed no JSON: {outcome.stdout[-_TAIL:]}") from exc
