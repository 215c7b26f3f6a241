"""What a GPU and its driver can run: CUDA versions and compute capabilities.

The doctor (about the environment) and pre-flight (about one profile on this machine) ask
the same questions — can this driver start a torch built for CUDA X, does this card have
bfloat16 and FlashAttention 2 — so the answers are written once, here.
"""

from __future__ import annotations

import re

AMPERE = (8, 0)
"""The first compute capability with bfloat16 and FlashAttention 2 (A100, RTX 30xx)."""


def cuda_tuple(text: str | None) -> tuple[int, int] | None:
    """ "12.8" -> (12, 8); None when absent or unreadable."""
    match = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def driver_too_old(driver_cuda: str | None, build_cuda: str | None) -> bool:
    """True when a driver supporting CUDA `driver_cuda` cannot run a torch built for
    `build_cuda`; False when either is unknown.

    Only a newer major version fails: a newer minor runs through CUDA's minor-version
    compatibility (a 12.2 driver runs cu124 wheels).
    """
    driver, built = cuda_tuple(driver_cuda), cuda_tuple(build_cuda)
    return bool(driver and built and built[0] > driver[0])


def sm(capability: tuple[int, int]) -> str:
    """(7, 5) -> "sm_75"."""
    return f"sm_{capability[0]}{capability[1]}"


def pre_ampere(capability: tuple[int, int] | None) -> bool:
    """True for a known capability below 8.0 (T4 7.5, V100 7.0, RTX 20xx 7.5)."""
    return capability is not None and tuple(capability) < AMPERE
