"""The doctor fails environment causes with the catalog id a failed run's log would get:
the driver older than torch's CUDA, and unsloth out of step with unsloth_zoo, torch or TRL
(from their declared requirements, without importing unsloth)."""

from __future__ import annotations

import pytest

from cockpit.doctor.checks import gpu as checks
from cockpit.doctor.checks import stack
from cockpit.knowledge.catalog import load_entries
from tests.unit.doctor_fixtures import (
    PYTHON,
    TORCH,
    ctx,
    dist,
    facts,
    failed_probe,
    gpu,
    ok_probe,
    torch_probe,
)

# unsloth 2026.10.9's own Requires-Dist (pip download unsloth==2026.10.9, METADATA).
UNSLOTH = dist(
    "unsloth",
    "2026.10.9",
    "unsloth_zoo>=2026.10.9",
    "torch<2.15.0,>=2.4.0",
    "torchvision",
    "trl!=0.19.0,<=1.15.0,>=0.18.2",
    'unsloth_zoo>=2026.10.9; extra == "huggingface"',
)
ZOO = dist("unsloth-zoo", "2026.10.9", "torch<2.15.0,>=2.4.0")
TRL = dist("trl", "1.15.0")
TORCHVISION = dist("torchvision", "0.22.1")


def _unsloth(*dists, probe=None):
    installed = {d.name: d for d in (UNSLOTH, ZOO, TORCH, TRL, TORCHVISION)}
    installed.update({d.name: d for d in dists if d.version is not None})
    for gone in (d.name for d in dists if d.version is None):
        installed.pop(gone)
    the_probe = probe or ok_probe("unsloth")
    return stack.unsloth(ctx(facts(*installed.values()), the_probe, gpus=(gpu(),)))


def test_catalog_has_every_doctor_id():
    ids = {e.id for e in load_entries()}
    assert {
        "cuda_driver_too_old",
        "unsloth_zoo_version_skew",
        "unsloth_torch_too_old",
        "unsloth_trl_skew",
    } <= ids


def test_a_driver_older_than_torchs_cuda_fails_with_the_catalog_id():
    found = checks.torch(ctx(facts(TORCH), torch_probe(), gpus=(gpu(cuda="11.8"),)))
    assert found.status == "fail" and found.catalog_id == "cuda_driver_too_old"
    assert "built for CUDA 12.8" in found.detail and "up to 11.8" in found.detail
    assert "Update the NVIDIA driver" in found.fix and "cu118" in found.fix


def test_a_newer_minor_than_the_driver_runs():
    found = checks.torch(ctx(facts(TORCH), torch_probe(), gpus=(gpu(cuda="12.2"),)))
    assert found.status == "ok" and found.catalog_id is None


def test_a_matching_unsloth_stack_is_ok():
    found = _unsloth()
    assert found.status == "ok" and found.catalog_id is None


@pytest.mark.parametrize(
    ("zoo", "seen"),
    [
        (
            dist("unsloth-zoo", "2026.9.1"),
            "needs unsloth_zoo>=2026.10.9, but 2026.9.1 is installed",
        ),
        (dist("unsloth-zoo", None), "needs unsloth_zoo>=2026.10.9, which is not installed"),
    ],
)
def test_an_older_or_missing_zoo_fails_with_the_catalog_id(zoo, seen):
    found = _unsloth(zoo)
    assert found.status == "fail" and found.catalog_id == "unsloth_zoo_version_skew"
    assert seen in found.detail
    assert f"{PYTHON} -m pip install --upgrade --force-reinstall --no-cache-dir --no-deps" in (
        found.fix
    )
    assert "unsloth unsloth_zoo" in found.fix


def test_a_zoo_from_a_later_release_is_a_warning():
    found = _unsloth(dist("unsloth-zoo", "2026.12.1"))
    assert found.status == "warn" and found.catalog_id == "unsloth_zoo_version_skew"
    assert "later release" in found.detail and "unsloth unsloth_zoo" in found.fix


def test_the_zoo_skew_explains_a_failed_import():
    probe = failed_probe(
        "unsloth", "ImportError: cannot import name 'patch_compiled_autograd' from 'unsloth_zoo'"
    )
    found = _unsloth(dist("unsloth-zoo", "2026.9.1"), probe=probe)
    assert found.status == "fail" and found.catalog_id == "unsloth_zoo_version_skew"
    assert "cannot import name" in found.detail


def test_torch_older_than_unsloth_declares_fails_with_the_catalog_id():
    found = _unsloth(dist("torch", "2.3.1+cu121"))
    assert found.status == "fail" and found.catalog_id == "unsloth_torch_too_old"
    assert "unsloth needs torch<2.15.0,>=2.4.0, but torch 2.3.1+cu121 is installed" in found.detail
    assert '"torch<2.15.0,>=2.4.0"' in found.fix and "whl/cu121" in found.fix


def test_torch_too_new_is_left_to_the_requirements_check():
    found = _unsloth(dist("torch", "2.15.1+cu128"))
    assert found.catalog_id != "unsloth_torch_too_old"


@pytest.mark.parametrize(("trl", "side"), [("1.16.0", "newer"), ("0.17.0", "older")])
def test_trl_outside_what_unsloth_declares_fails_with_the_catalog_id(trl, side):
    found = _unsloth(dist("trl", trl))
    assert found.status == "fail" and found.catalog_id == "unsloth_trl_skew"
    assert f"trl {trl} is installed ({side})" in found.detail
    assert '"trl!=0.19.0,<=1.15.0,>=0.18.2"' in found.fix and 'backend = "peft"' in found.fix


def test_flash_attn_on_a_t4_only_is_a_warning_with_the_catalog_id():
    t4 = gpu(name="Tesla T4", capability=(7, 5), cuda="12.4", memory_gib=15)
    flash = dist("flash-attn", "2.7.4")
    found = stack.attention_kernels(ctx(facts(TORCH, flash), ok_probe("flash_attn"), gpus=(t4,)))
    assert found.status == "warn" and found.catalog_id == "flash_attn_unsupported_gpu"
    assert "GPU 0 Tesla T4 is sm_75" in found.detail
    assert 'attn_implementation = "sdpa"' in found.fix
    assert f"{PYTHON} -m pip uninstall -y flash-attn" in found.fix


def test_flash_attn_with_an_ampere_card_is_fine():
    flash = dist("flash-attn", "2.7.4")
    found = stack.attention_kernels(ctx(facts(TORCH, flash), ok_probe("flash_attn"), gpus=(gpu(),)))
    assert found.status == "ok" and found.catalog_id is None
