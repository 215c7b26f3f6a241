"""The doctor end to end: facts, probes and GPUs in, ordered findings out.

``run_doctor`` blocks for a few seconds (the probes import torch); the UI calls it from
a thread worker and the CLI directly. It never raises for a broken environment or a
buggy check: both become findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from cockpit.doctor.checks import ALL_CHECKS, TITLES, CheckFn
from cockpit.doctor.context import DoctorContext, ModelSize
from cockpit.doctor.finding import Finding, ordered
from cockpit.doctor.probes import DEFAULT_TIMEOUT_S, run_probes
from cockpit.doctor.target import TargetError, gather_facts, resolve_python
from cockpit.hardware.snapshot import GpuSnapshot, NvmlStatus


def sample_gpus() -> tuple[NvmlStatus, tuple[GpuSnapshot, ...]]:
    """One NVML sample through the hardware gateway; any failure is an unavailable status."""
    try:
        from cockpit.hardware.nvml import NvmlSource
    except ImportError as exc:
        return NvmlStatus(False, error=f"cockpit.hardware.nvml unavailable: {exc}"), ()
    source = NvmlSource()
    try:
        return source.sample()
    except Exception as exc:  # the gateway should not raise; it must not sink the doctor
        return NvmlStatus(False, error=f"{type(exc).__name__}: {exc}"), ()
    finally:
        source.close()


def _bug(fn: CheckFn, exc: Exception) -> Finding:
    check_id = getattr(fn, "check_id", getattr(fn, "__name__", "check"))
    return Finding(
        check_id,
        TITLES.get(check_id, check_id),
        "fail",
        f"The {check_id} check itself crashed ({type(exc).__name__}: {exc}). This is a bug in"
        " cockpit, not in your environment; the other checks are unaffected.",
        "Please report it with the output of `cockpit doctor --json`.",
    )


def run_checks(ctx: DoctorContext, checks: Iterable[CheckFn] = ALL_CHECKS) -> list[Finding]:
    """Every check's findings in check order; a check that raises becomes a `fail`."""
    findings: list[Finding] = []
    for fn in checks:
        try:
            result = fn(ctx)
        except Exception as exc:
            findings.append(_bug(fn, exc))
            continue
        findings.extend(result if isinstance(result, list) else [result])
    return findings


def run_doctor(
    python: str | None = None,
    *,
    gpus: Sequence[GpuSnapshot] | None = None,
    nvml: NvmlStatus | None = None,
    models: Sequence[ModelSize] = (),
    probe_timeout: float = DEFAULT_TIMEOUT_S,
) -> list[Finding]:
    """Check the environment of `python` (default: this interpreter); findings, worst first.

    `gpus`/`nvml` replace the NVML sample (tests, or the UI's latest snapshot); passing
    `gpus` alone means NVML was available. `models` are the profiles' models, for the
    resources check.
    """
    target = resolve_python(python)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="doctor-nvml") as pool:
        sampled = pool.submit(sample_gpus) if gpus is None else None
        try:
            facts = gather_facts(target)
        except TargetError as error:
            return [error.finding]
        probes = run_probes(target, facts, probe_timeout)
        if sampled is not None:
            nvml, gpus = sampled.result()
    status = nvml or NvmlStatus(available=bool(gpus))
    ctx = DoctorContext(facts, probes, status, tuple(gpus or ()), tuple(models))
    return ordered(run_checks(ctx))


def exit_code(findings: Iterable[Finding]) -> int:
    """0 when nothing failed, else 1 (warnings do not fail a CI job)."""
    return 1 if any(f.status == "fail" for f in findings) else 0
