"""Checks of the host around the training: the Hugging Face cache and hub settings, and
whether RAM and disk can hold the model being trained."""

from __future__ import annotations

from cockpit.doctor.checks._base import check, finding, gib
from cockpit.doctor.context import DEFAULT_MODEL, DoctorContext
from cockpit.doctor.finding import Finding

_MIN_CACHE_FREE = 10 * 1024**3


def _token_line(ctx: DoctorContext) -> str:
    facts = ctx.facts
    if facts.token:
        return f"token {facts.token} (from {facts.token_source})"
    return "no token (gated models such as Llama need `hf auth login`)"


def _settings_line(ctx: DoctorContext) -> str:
    env = ctx.facts.env
    names = ("HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT", "HF_HUB_ETAG_TIMEOUT")
    parts = [f"{name}={env[name]}" for name in names if env.get(name)]
    return ", ".join(parts) if parts else "default endpoint and timeouts"


@check("hf_hub")
def hf_hub(ctx: DoctorContext) -> Finding:
    """Where models download to, the free space there, offline/endpoint/timeouts, token."""
    facts, env = ctx.facts, ctx.facts.env
    created = "" if facts.hf_cache_exists else " (not created yet)"
    detail = (
        f"Cache {facts.hf_cache}{created}, {gib(facts.hf_cache_free_bytes)} free; "
        f"{_settings_line(ctx)}; {_token_line(ctx)}."
    )
    timeout_fix = (
        "On a slow or flaky connection raise the timeouts: export HF_HUB_DOWNLOAD_TIMEOUT=600"
        " HF_HUB_ETAG_TIMEOUT=60, and re-run the download: it resumes."
    )
    fix = "" if env.get("HF_HUB_DOWNLOAD_TIMEOUT") else timeout_fix
    free = facts.hf_cache_free_bytes
    if free is not None and free < _MIN_CACHE_FREE:
        detail += " Too little space for model downloads (a 3B model is ~6.4 GB in 16-bit)."
        fix = "Free space, or move the cache to a bigger disk: export HF_HOME=/big/disk/huggingface"
        return finding("hf_hub", "warn", detail, fix)
    if env.get("HF_HUB_OFFLINE") in ("1", "true", "TRUE", "yes"):
        detail += " Offline mode: only models already in the cache load."
        return finding("hf_hub", "warn", detail, "unset HF_HUB_OFFLINE to allow downloads")
    if env.get("TRANSFORMERS_CACHE"):
        detail += " TRANSFORMERS_CACHE is ignored by current transformers."
        fix = f"export HF_HUB_CACHE={env['TRANSFORMERS_CACHE']} and unset TRANSFORMERS_CACHE"
        return finding("hf_hub", "warn", detail, fix)
    return finding("hf_hub", "ok", detail, fix, "hub_download_timeout" if fix else None)


def _shortfalls(ctx: DoctorContext, need: int) -> list[str]:
    facts = ctx.facts
    lines = []
    if facts.ram_total_bytes is not None and facts.ram_total_bytes < need:
        lines.append(f"RAM {gib(facts.ram_total_bytes)} is below the {gib(need)} of 16-bit weights")
    elif facts.ram_available_bytes is not None and facts.ram_available_bytes < need:
        lines.append(f"only {gib(facts.ram_available_bytes)} of RAM is free now")
    free = facts.hf_cache_free_bytes
    if free is not None and free < 2 * need:
        lines.append(
            f"{gib(free)} free disk, under the {gib(2 * need)} a download plus a merge need"
        )
    return lines


@check("resources")
def resources(ctx: DoctorContext) -> Finding:
    """RAM to load/merge the largest model in 16-bit, disk for its download and checkpoints."""
    models = ctx.models or (DEFAULT_MODEL,)
    largest = max(models, key=lambda model: model.params)
    need = largest.bf16_bytes
    facts = ctx.facts
    which = "the largest model among the profiles, " if ctx.models else ""
    detail = (
        f"Judged against {which}{largest.name} ({largest.params / 1e9:.1f}B params, {gib(need)} in"
        f" 16-bit): RAM {gib(facts.ram_total_bytes)} total, {gib(facts.ram_available_bytes)}"
        f" free; {gib(facts.hf_cache_free_bytes)} free disk at the model cache."
    )
    shortfalls = _shortfalls(ctx, need)
    if not shortfalls:
        return finding("resources", "ok", detail)
    detail += " " + "; ".join(shortfalls) + "."
    fix = (
        "Load a pre-quantised 4-bit checkpoint (e.g. an unsloth/…-bnb-4bit repo) instead of"
        " 16-bit weights, add swap, close other programs, pick a smaller model, or free disk."
    )
    return finding("resources", "warn", detail, fix)
