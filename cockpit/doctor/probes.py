"""Isolated import probes: each GPU-stack package imported in its own child process.

A probe runs probe_script.py under the target interpreter with a timeout; the probes
run side by side in threads. Whatever happens in the child — a Python error, SIGSEGV,
SIGABRT, a hang — comes back as a ``ProbeResult``, and the last stage the child
announced says where it died ("SIGABRT during torch.cuda.is_available()").
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cockpit.doctor.facts import Facts, normalize
from cockpit.doctor.probe_script import RESULT_MARKER, STAGE_MARKER
from cockpit.isolated import Outcome, run_isolated

PROBE_SCRIPT = Path(__file__).with_name("probe_script.py")
DEFAULT_TIMEOUT_S = 20.0
_TAIL = 2000
# Options Unsloth passes to torch.compile; probe_script adds those it finds in Unsloth's source.
UNSLOTH_INDUCTOR_OPTIONS = (
    "epilogue_fusion",
    "max_autotune",
    "shape_padding",
    "trace.enabled",
    "triton.cudagraphs",
    "triton.enable_persistent_tma_matmul",
    "triton.autotune_at_compile_time",
    "triton.cooperative_reductions",
    "cuda.compile_opt_level",
    "cuda.enable_cuda_lto",
    "combo_kernels",
)
# Importing these to test numpy's ABI would cost seconds each (or has its own probe).
_NUMPY_SKIP = frozenset({"torch", "tensorflow", "jax", "jaxlib", "vllm", "deepspeed", "unsloth"})
_NUMPY_MAX_MODULES = 20


@dataclass(frozen=True)
class ProbeResult:
    """What one probe child reported, or how it died."""

    name: str
    ok: bool
    """The child exited normally, reported a result, and its import raised nothing."""
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    returncode: int | None = 0
    signal_name: str | None = None
    """"SIGABRT", "SIGSEGV"… when the child was killed by a signal."""
    timed_out: bool = False
    stderr_tail: str = ""
    stage: str | None = None
    """The last step the child announced before it finished or died."""
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def error(self) -> str | None:
        """The Python exception the import raised ("ImportError: …"), if any."""
        value = self.data.get("error")
        return str(value) if value else None

    @property
    def crashed(self) -> bool:
        return self.signal_name is not None or self.timed_out

    def failure(self) -> str:
        """One line (no final full stop) saying how the probe failed, for a finding's detail."""
        return self._failure().rstrip(". \n")

    def _failure(self) -> str:
        where = f" during {self.stage}" if self.stage else ""
        if self.timed_out:
            return f"hung for more than {self.timeout_s:g} s{where} (killed)"
        if self.signal_name:
            return f"crashed with {self.signal_name}{where}"
        if self.error:
            return self.error
        if self.returncode:
            return f"exited with code {self.returncode}{where}"
        return "reported nothing"

    def text(self) -> str:
        """Error, warnings and stderr together, for matching known failure messages."""
        return "\n".join(
            str(part) for part in (self.error, self.data.get("warnings"), self.stderr_tail) if part
        )


def parse_outcome(name: str, outcome: Outcome, timeout: float = DEFAULT_TIMEOUT_S) -> ProbeResult:
    """Turn a finished child's exit status and output into a ProbeResult (pure)."""
    stage, data = None, None
    for line in outcome.stdout.splitlines():
        if line.startswith(STAGE_MARKER):
            stage = line[len(STAGE_MARKER) :].strip()
        elif line.startswith(RESULT_MARKER):
            try:
                data = json.loads(line[len(RESULT_MARKER) :])
            except ValueError:
                data = None
    stderr = outcome.stderr
    if outcome.start_error:
        stderr = outcome.start_error + "\n" + stderr
    ok = (
        outcome.returncode == 0
        and isinstance(data, dict)
        and not data.get("error")
        and not outcome.timed_out
    )
    return ProbeResult(
        name=name,
        ok=ok,
        data=MappingProxyType(data if isinstance(data, dict) else {}),
        returncode=outcome.returncode,
        signal_name=outcome.signal_name,
        timed_out=outcome.timed_out,
        stderr_tail=stderr[-_TAIL:],
        stage=stage,
        timeout_s=timeout,
    )


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def run_probe(
    python: str, name: str, args: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT_S
) -> ProbeResult:
    """Run one named probe of probe_script.py under `python`."""
    argv = [python, "-I", "-X", "faulthandler", str(PROBE_SCRIPT), name, *args]
    return parse_outcome(name, run_isolated(argv, timeout, env=_child_env()), timeout)


def run_snippet(
    python: str, name: str, code: str, timeout: float = DEFAULT_TIMEOUT_S
) -> ProbeResult:
    """Run arbitrary probe code (which prints the markers itself) under `python`."""
    argv = [python, "-I", "-X", "faulthandler", "-c", code]
    return parse_outcome(name, run_isolated(argv, timeout, env=_child_env()), timeout)


def _numpy_candidates(facts: Facts) -> list[str]:
    """Top-level modules of compiled packages that depend on numpy: the ones numpy 2 breaks."""
    modules: list[str] = []
    for dist in facts.distributions:
        if dist.broken or not dist.native or dist.name == "numpy":
            continue
        requires = {normalize(_requirement_name(req)) for req in dist.requires if _no_extra(req)}
        if "numpy" not in requires:
            continue
        modules.extend(m for m in dist.top_level if m not in _NUMPY_SKIP and m.isidentifier())
    return sorted(set(modules))[:_NUMPY_MAX_MODULES]


def _requirement_name(requirement: str) -> str:
    name = requirement.split(";", 1)[0]
    for stop in "[<>=!~ (":
        name = name.split(stop, 1)[0]
    return name.strip()


def _no_extra(requirement: str) -> bool:
    return "extra" not in requirement.partition(";")[2]


@dataclass(frozen=True)
class ProbeSpec:
    """When a probe runs (its packages are installed) and what arguments it gets."""

    name: str
    needs_any: tuple[str, ...]
    needs_all: tuple[str, ...] = ()
    args: Callable[[Facts], Sequence[str]] | None = None
    timeout_scale: float = 1.0
    """Unsloth patches and compiles at import: it gets longer before it counts as a hang."""

    def applies(self, facts: Facts) -> bool:
        return facts.has(*self.needs_any) and all(facts.has(n) for n in self.needs_all)


PROBES: tuple[ProbeSpec, ...] = (
    ProbeSpec("torch", ("torch",)),
    ProbeSpec("torchao", ("torchao",)),
    ProbeSpec("unsloth", ("unsloth",), timeout_scale=3.0),
    ProbeSpec("bitsandbytes", ("bitsandbytes",)),
    ProbeSpec("flash_attn", ("flash-attn",)),
    ProbeSpec("xformers", ("xformers",)),
    ProbeSpec("triton", ("triton", "triton-windows")),
    ProbeSpec(
        "inductor_options",
        ("unsloth", "unsloth-zoo"),
        needs_all=("torch",),
        args=lambda facts: UNSLOTH_INDUCTOR_OPTIONS,
    ),
    ProbeSpec("numpy", ("numpy",), args=_numpy_candidates),
    ProbeSpec("pydantic", ("pydantic",)),
    ProbeSpec("ray", ("ray",)),
)


def run_probes(
    python: str,
    facts: Facts,
    timeout: float = DEFAULT_TIMEOUT_S,
    specs: Iterable[ProbeSpec] = PROBES,
) -> dict[str, ProbeResult]:
    """Run, side by side, every probe whose package is installed; skipped ones are absent."""
    chosen = [spec for spec in specs if spec.applies(facts)]
    if not chosen:
        return {}
    with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="doctor-probe") as pool:
        futures = {
            spec.name: pool.submit(
                run_probe,
                python,
                spec.name,
                list(spec.args(facts) if spec.args else ()),
                timeout * spec.timeout_scale,
            )
            for spec in chosen
        }
        return {name: future.result() for name, future in futures.items()}
