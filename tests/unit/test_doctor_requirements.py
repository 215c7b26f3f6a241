"""The requirements check: declared pins vs installed versions, as pip would see them."""

from __future__ import annotations

from cockpit.doctor.checks.requirements import conflicts, merged_spec, requirements
from tests.unit.doctor_fixtures import PYTHON, TORCH, ctx, dist, facts, windows

# unsloth 2026.10.9 as installed beside the newest stack: the seeds' ResolutionImpossible.
UNSLOTH = dist(
    "unsloth",
    "2026.10.9",
    "unsloth_zoo>=2026.10.4",
    "transformers<=5.17.0,>=4.51.3",
    "trl<=1.15.0,>=0.19",
    "datasets<5.0,>=3.0",
    "torch<2.15,>=2.4",
    "triton>=3.0; platform_system == 'Linux'",
    "triton-windows; platform_system == 'Windows'",
    'xformers>=0.0.28; extra == "cu124"',
)
ZOO = dist("unsloth-zoo", "2026.10.4", "torch", "packaging")
NEWEST = (
    dist("transformers", "5.23.0", "huggingface-hub>=1.0", "numpy>=1.17"),
    dist("trl", "1.16.0", "transformers>=4.56.1", "accelerate>=1.4.0", "datasets>=3.0.0"),
    dist("datasets", "4.4.1", "numpy>=1.17"),
    dist("accelerate", "1.15.0", "torch>=2.0.0", "numpy>=1.17"),
    dist("huggingface-hub", "1.2.0"),
    dist("numpy", "2.1.0"),
    dist("packaging", "25.0"),
    dist("triton", "3.3.1"),
    TORCH,
)


def test_unsloth_pins_clash_with_the_newest_transformers_and_trl():
    found = requirements(ctx(facts(UNSLOTH, ZOO, *NEWEST)))
    assert found.status == "fail" and found.catalog_id == "pip_dependency_conflict"
    assert "unsloth 2026.10.9 requires transformers<=5.17.0,>=4.51.3, but 5.23.0 is installed" in (
        found.detail
    )
    assert "unsloth 2026.10.9 requires trl<=1.15.0,>=0.19, but 1.16.0 is installed" in found.detail
    # One command, with the target's own pip, that also keeps trl's floor on transformers.
    assert f'{PYTHON} -m pip install "transformers<=5.17.0,>=4.51.3,>=4.56.1"' in found.fix
    assert '"trl<=1.15.0,>=0.19"' in found.fix
    assert "ResolutionImpossible" in found.fix and "-U unsloth" in found.fix


def test_markers_are_evaluated_for_the_target_platform_not_cockpits():
    linux = {c.requirement.name for c in conflicts(facts(UNSLOTH, ZOO, *NEWEST))}
    assert "triton-windows" not in linux
    on_windows = {c.requirement.name for c in conflicts(windows(UNSLOTH, ZOO, *NEWEST))}
    assert "triton-windows" in on_windows  # missing there: counts as a conflict
    assert "triton" not in on_windows


def test_extras_are_ignored_unless_another_package_requests_them():
    assert "xformers" not in {c.dep for c in conflicts(facts(UNSLOTH, ZOO, *NEWEST))}
    wants = dist("peft", "0.17.0", "unsloth[cu124]")
    found = {c.dep for c in conflicts(facts(UNSLOTH, ZOO, wants, *NEWEST))}
    assert "xformers" in found


def test_missing_dependency_is_a_conflict():
    found = requirements(ctx(facts(dist("peft", "0.17.0", "safetensors>=0.4"), TORCH)))
    assert found.status == "fail"
    assert "peft 0.17.0 requires safetensors>=0.4, but it is not installed" in found.detail


def test_prerelease_installed_satisfies_a_plain_range():
    nightly = dist("torch", "2.10.0.dev20260101+cu128")
    zoo = dist("unsloth-zoo", "2026.10.4", "torch>=2.4")
    assert conflicts(facts(zoo, nightly)) == []


def test_torch_conflict_fix_keeps_the_cuda_flavour():
    old_torch = dist("torch", "2.3.1+cu121")
    zoo = dist("unsloth-zoo", "2026.10.4", "torch>=2.4")
    found = requirements(ctx(facts(zoo, old_torch)))
    assert '"torch>=2.4" --index-url https://download.pytorch.org/whl/cu121' in found.fix


def test_torchvision_pinned_to_another_torch_is_caught():
    vision = dist("torchvision", "0.20.1+cu124", "torch==2.5.1")
    found = requirements(ctx(facts(vision, TORCH)))
    assert "torchvision 0.20.1+cu124 requires torch==2.5.1, but 2.7.1+cu128 is installed" in (
        found.detail
    )


def test_broken_or_unparseable_entries_do_not_crash_the_check():
    weird = dist("trl", "1.16.0", "this is not a requirement !!", "transformers>=4.56")
    transformers = dist("transformers", "not-a-version")
    assert requirements(ctx(facts(weird, transformers))).status == "ok"


def test_healthy_stack_and_empty_env():
    healthy = facts(*NEWEST)
    assert requirements(ctx(healthy)).status == "ok"
    empty = requirements(ctx(facts()))
    assert empty.status == "skip" and '"cockpit[train]"' in empty.fix


def test_merged_spec_collects_every_requirers_constraint():
    spec = merged_spec(facts(UNSLOTH, ZOO, *NEWEST), "transformers")
    assert spec.contains("5.17.0") and not spec.contains("5.18.0") and not spec.contains("4.52")
