"""Doctor checks of the packages on top of torch, and of numpy/pydantic/Ray breakage."""

from __future__ import annotations

from types import MappingProxyType

from cockpit.doctor.checks import compat, stack
from cockpit.doctor.probes import ProbeResult
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
    windows,
)

UNSLOTH = dist("unsloth", "2026.1.4")
INDUCTOR_ERROR = (
    "RuntimeError: Unexpected optimization option triton.enable_persistent_tma_matmul,"
    " known options are [...]"
)


def test_torchao_needing_torch_int1_is_a_version_mismatch():
    ao = dist("torchao", "0.13.0")
    old_torch = dist("torch", "2.5.1+cu121")
    probe = failed_probe("torchao", "AttributeError: module 'torch' has no attribute 'int1'")
    found = stack.torchao(ctx(facts(ao, old_torch), probe))
    assert found.status == "fail" and found.catalog_id == "torch_torchao_mismatch"
    assert "torch.int1" in found.detail and "2.5.1+cu121" in found.detail
    assert '"torchao==0.12.0"' in found.fix


def test_torchao_newer_than_torch_supports_fails_even_if_it_imports():
    found = stack.torchao(ctx(facts(dist("torchao", "0.16.0"), TORCH), ok_probe("torchao")))
    assert found.status == "fail" and "supports torch >= 2.8" in found.detail


def test_torchao_skipping_its_cpp_extensions_warns():
    ao = dist("torchao", "0.14.0")
    probe = ok_probe(
        "torchao",
        warnings="Skipping import of cpp extensions due to incompatible torch version 2.7.1",
    )
    found = stack.torchao(ctx(facts(ao, TORCH), probe))
    assert found.status == "warn"
    assert found.fix.endswith('"torchao==0.12.0"')


def test_torchao_not_installed_is_skipped():
    assert stack.torchao(ctx(facts(TORCH))).status == "skip"


def test_no_c_compiler_for_triton_fails_with_build_essential():
    no_cc = facts(TORCH, dist("triton", "3.3.1"), compilers=MappingProxyType({}))
    found = stack.triton_toolchain(ctx(no_cc, ok_probe("triton", version="3.3.1")))
    assert found.status == "fail" and found.catalog_id == "triton_no_c_compiler"
    assert "Failed to find C compiler" in found.detail
    assert "sudo apt update && sudo apt install -y build-essential" in found.fix


def test_missing_python_headers_fail_with_the_dev_package():
    no_headers = facts(TORCH, dist("triton", "3.3.1"), python_h=False)
    found = stack.triton_toolchain(ctx(no_headers, ok_probe("triton")))
    assert found.status == "fail" and found.catalog_id == "triton_missing_python_headers"
    assert "sudo apt install -y python3.11-dev" in found.fix


def test_triton_windows_bundles_its_compiler():
    found = stack.triton_toolchain(
        ctx(windows(dist("triton-windows", "3.3.1")), ok_probe("triton"))
    )
    assert found.status == "ok" and "bundled TinyCC" in found.detail


def test_unexpected_inductor_option_fails_both_checks_first_inductor():
    f = facts(UNSLOTH, TORCH)
    inductor = ok_probe(
        "inductor_options",
        version="2.6.0.dev20250101",
        checked=["epilogue_fusion", "triton.enable_persistent_tma_matmul"],
        missing=["triton.enable_persistent_tma_matmul"],
    )
    unsloth = failed_probe("unsloth", INDUCTOR_ERROR)
    found = stack.inductor_options(ctx(f, inductor, unsloth, gpus=(gpu(),)))
    assert found.status == "fail" and found.catalog_id == "torch_inductor_option_mismatch"
    assert "triton.enable_persistent_tma_matmul" in found.detail
    assert "UNSLOTH_COMPILE_DISABLE=1" in found.fix
    assert stack.unsloth(ctx(f, inductor, unsloth, gpus=(gpu(),))).status == "fail"


def test_missing_options_are_fine_when_unsloth_imports_anyway():
    inductor = ok_probe("inductor_options", version="2.7.1", checked=["a"], missing=["cuda.x"])
    found = stack.inductor_options(
        ctx(facts(UNSLOTH, TORCH), inductor, ok_probe("unsloth"), gpus=(gpu(),))
    )
    assert found.status == "ok" and "filters them" in found.detail


def test_unsloth_without_gpu_is_the_no_accelerator_case():
    probe = failed_probe(
        "unsloth", "NotImplementedError: Unsloth cannot find any torch accelerator? You need a GPU."
    )
    found = stack.unsloth(ctx(facts(UNSLOTH, TORCH), probe))
    assert found.status == "fail" and found.catalog_id == "unsloth_no_accelerator"


def test_unsloth_flags_in_effect_are_explained():
    env = MappingProxyType({"UNSLOTH_SKIP_TORCHVISION_CHECK": "1", "UNSLOTH_SKIP_COMPILER": "1"})
    found = stack.unsloth(ctx(facts(UNSLOTH, TORCH, env=env), ok_probe("unsloth"), gpus=(gpu(),)))
    assert found.status == "ok"
    assert "UNSLOTH_SKIP_TORCHVISION_CHECK=1 (skips" in found.detail
    assert "UNSLOTH_COMPILE_DISABLE=1 is the flag that disables compilation" in found.detail


def test_unsloth_not_installed_says_how_to_get_a_compatible_set():
    found = stack.unsloth(ctx(facts(TORCH)))
    assert found.status == "skip"
    assert found.fix.endswith(f'{PYTHON} -m pip install "cockpit[unsloth]"')


def test_bitsandbytes_cpu_library_with_a_gpu_fails():
    probe = ok_probe(
        "bitsandbytes",
        version="0.45.0",
        lib_class="BNBNativeLibrary",
        compiled_with_cuda=False,
        backend="CPU",
    )
    found = stack.bitsandbytes(ctx(facts(dist("bitsandbytes", "0.45.0")), probe, gpus=(gpu(),)))
    assert found.status == "fail" and found.catalog_id == "bnb_no_gpu_support"
    assert "--force-reinstall" in found.fix


def test_bitsandbytes_cuda_library_is_ok_and_cpu_without_gpu_too():
    cuda = ok_probe("bitsandbytes", compiled_with_cuda=True, backend="CUDA")
    bnb = facts(dist("bitsandbytes", "0.50.2"))
    assert stack.bitsandbytes(ctx(bnb, cuda, gpus=(gpu(),))).status == "ok"
    cpu = ok_probe("bitsandbytes", compiled_with_cuda=False, lib_class="BNBNativeLibrary")
    assert stack.bitsandbytes(ctx(bnb, cpu)).status == "ok"


def test_flash_attn_undefined_symbol_means_built_for_another_torch():
    probe = failed_probe(
        "flash_attn",
        "ImportError: flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: undefined symbol:"
        " _ZN3c105ErrorC2ENS_14SourceLocationENSt7__cxx1112basic_stringIcSt11char_traitsIcES",
    )
    found = stack.attention_kernels(ctx(facts(TORCH, dist("flash-attn", "2.8.3")), probe))
    assert found.status == "fail"
    assert "flash-attn 2.8.3 was built for another torch than 2.7.1+cu128" in found.detail
    assert "--no-build-isolation" in found.fix and "sdpa" in found.fix


def test_xformers_built_for_another_torch_warning_is_caught():
    probe = ok_probe(
        "xformers",
        warnings="WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was"
        " built for: PyTorch 2.5.1+cu121 with CUDA 1201 (you have 2.7.1+cu128)",
    )
    found = stack.attention_kernels(ctx(facts(TORCH, dist("xformers", "0.0.28.post3")), probe))
    assert found.status == "fail" and found.catalog_id == "xformers_version_mismatch"
    assert "whl/cu128" in found.fix


def test_no_attention_kernels_on_windows_recommends_sdpa():
    found = stack.attention_kernels(ctx(windows(TORCH)))
    assert found.status == "skip" and found.catalog_id == "flash_attn_build_long_path"


def test_numpy2_breaks_a_module_compiled_against_numpy1():
    pandas = dist("pandas", "1.5.3", "numpy>=1.21", native=True, top_level=("pandas",))
    probe = ok_probe(
        "numpy",
        version="2.1.0",
        abi_failures=[{"module": "pandas", "error": "A module that was compiled using NumPy 1.x"}],
        other_failures=[],
        skipped=[],
    )
    found = compat.numpy_abi(ctx(facts(dist("numpy", "2.1.0"), pandas), probe))
    assert found.status == "fail" and found.catalog_id == "numpy2_abi"
    assert "pandas" in found.detail
    assert f"{PYTHON} -m pip install -U pandas" in found.fix and '"numpy<2"' in found.fix


def test_a_crash_while_importing_a_module_blames_that_module():
    probe = ProbeResult(
        name="numpy", ok=False, returncode=-11, signal_name="SIGSEGV", stage="import scipy"
    )
    scipy = dist("scipy", "1.10.0", "numpy<1.27", native=True, top_level=("scipy",))
    found = compat.numpy_abi(ctx(facts(dist("numpy", "2.1.0"), scipy), probe))
    assert found.status == "fail" and "scipy" in found.detail


def test_declared_numpy1_pin_with_numpy2_installed_warns():
    pinned = dist("opencv-python", "4.8.0", "numpy<2")
    found = compat.numpy_abi(
        ctx(facts(dist("numpy", "2.1.0"), pinned), ok_probe("numpy", abi_failures=[]))
    )
    assert found.status == "warn" and "opencv-python 4.8.0 requires numpy<2" in found.detail


def test_v1_basesettings_under_pydantic2_fails():
    probe = ok_probe(
        "pydantic",
        version="2.11.0",
        settings_importable=False,
        v1_basesettings=["oldtool"],
        undeclared_settings_users=[],
    )
    found = compat.pydantic(ctx(facts(dist("pydantic", "2.11.0")), probe))
    assert found.status == "fail" and found.catalog_id == "pydantic_settings_missing"
    assert "oldtool" in found.detail


def test_undeclared_pydantic_settings_user_fails_with_install_command():
    probe = ok_probe(
        "pydantic",
        settings_importable=False,
        v1_basesettings=[],
        undeclared_settings_users=["verl"],
    )
    found = compat.pydantic(ctx(facts(dist("pydantic", "2.11.0")), probe))
    assert found.status == "fail" and found.fix.endswith('"pydantic-settings"')


def test_pydantic_fine_when_nobody_needs_settings():
    probe = ok_probe("pydantic", settings_importable=False, v1_basesettings=[])
    assert compat.pydantic(ctx(facts(dist("pydantic", "2.11.0")), probe)).status == "ok"


def test_ray_on_native_windows_fails_and_points_to_wsl():
    found = compat.ray(ctx(windows(dist("ray", "2.51.1")), ok_probe("ray")))
    assert found.status == "fail" and found.catalog_id == "ray_windows_segfault"
    assert "SIGSEGV" in found.detail and "WSL2" in found.fix


def test_ray_on_linux_is_fine_and_absent_ray_is_skipped():
    assert compat.ray(ctx(facts(dist("ray", "2.51.1")), ok_probe("ray"))).status == "ok"
    assert compat.ray(ctx(facts())).status == "skip"


def test_torch_importing_under_numpy2_with_the_numpy1_warning_is_flagged():
    noisy = ProbeResult(
        name="torch",
        ok=True,
        data=torch_probe().data,
        stderr_tail="A module that was compiled using NumPy 1.x cannot be run in NumPy 2.1.0",
    )
    found = compat.numpy_abi(ctx(facts(dist("numpy", "2.1.0"), TORCH), noisy))
    assert found.status == "fail" and "torch" in found.detail
