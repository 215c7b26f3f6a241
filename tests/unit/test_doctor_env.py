"""Doctor checks of the interpreter, OS, console, Hugging Face cache and resources."""

from __future__ import annotations

from types import MappingProxyType

from cockpit.doctor.checks import host, python_env
from cockpit.doctor.context import ModelSize
from cockpit.doctor.facts import Distribution, Facts
from cockpit.hardware.snapshot import GIB
from tests.unit.doctor_fixtures import (
    PREFIX,
    PYTHON,
    SECRET_TOKEN,
    TORCH,
    ctx,
    dist,
    facts,
    text,
    windows,
    wsl,
)


def test_interpreter_ok_when_path_python_and_pip_are_the_target():
    found = python_env.interpreter(ctx(facts()))
    assert found.status == "ok"
    assert PYTHON in found.detail and f"virtualenv at {PREFIX}" in found.detail


def test_bare_python_and_pip_from_another_env_are_flagged():
    system = {"executable": "/usr/bin/python3", "prefix": "/usr"}
    other = MappingProxyType(
        {
            "python": {"path": "/usr/bin/python", **system},
            "python3": {"path": "/usr/bin/python3", **system},
            "pip": {"path": "/usr/bin/pip", "location": "/usr/lib/python3/dist-packages/pip"},
        }
    )
    found = python_env.interpreter(ctx(facts(path_tools=other)))
    assert found.status == "warn" and found.catalog_id == "wrong_python_interpreter"
    assert "`python` and `python3` on PATH run /usr/bin/python3 (/usr)" in found.detail
    assert "`pip` on PATH installs into" in found.detail
    assert "/usr/lib/python3/dist-packages/pip" in found.detail
    assert f"source {PREFIX}/bin/activate" in found.fix
    assert f"{PYTHON} -m pip install" in found.fix


def test_a_pip_whose_interpreter_is_gone_is_reported():
    broken = MappingProxyType(
        {"pip": {"path": f"{PREFIX}/bin/pip", "error": "bad interpreter: No such file"}}
    )
    found = python_env.interpreter(ctx(facts(path_tools=broken)))
    assert found.status == "warn" and "`pip` on PATH fails to run from" in found.detail


def test_windows_paths_compare_case_insensitively():
    exe = r"C:\Users\ada\miniconda3\envs\arpo\python.exe"
    tools = MappingProxyType(
        {"python": {"path": exe, "executable": exe, "prefix": r"c:\users\ada\MINICONDA3\envs\arpo"}}
    )
    found = python_env.interpreter(ctx(windows(path_tools=tools)))
    assert found.status == "ok"
    assert "conda env arpo" in found.detail


def test_system_python_without_venv_is_a_warning():
    found = python_env.interpreter(ctx(facts(prefix="/usr", base_prefix="/usr", path_tools={})))
    assert found.status == "warn" and "venv" in found.fix


def test_half_uninstalled_package_is_reported_with_cleanup_commands():
    leftover = Distribution(
        name="torch",
        version="2.5.1",
        broken="left behind by an interrupted pip uninstall or upgrade",
        path=f"{PREFIX}/lib/python3.11/site-packages/~orch-2.5.1.dist-info",
    )
    found = python_env.broken_installs(ctx(facts(TORCH, leftover)))
    assert found.status == "fail"  # torch is part of the training stack
    assert "~orch-2.5.1.dist-info" in found.detail
    assert f"rm -rf '{PREFIX}/lib/python3.11/site-packages/~orch-2.5.1.dist-info'" in found.fix
    assert "--force-reinstall --no-deps torch" in found.fix


def test_metadata_without_version_and_stray_folders_warn():
    no_meta = Facts.from_json(
        {
            "executable": PYTHON,
            "version": "3.11.9",
            "distributions": [
                {"name": None, "path": "/sp/foo-1.0.dist-info", "broken": "METADATA is missing"}
            ],
            "stray_entries": ["/sp/~umpy"],
        }
    )
    assert no_meta.distributions[0].name == "foo"
    found = python_env.broken_installs(ctx(no_meta))
    assert found.status == "warn"
    assert "METADATA is missing" in found.detail and "/sp/~umpy" in found.detail


def test_package_installed_twice_is_reported():
    twice = facts(dist("numpy", "1.26.4", path="/a"), dist("numpy", "2.1.0", path="/b"))
    found = python_env.broken_installs(ctx(twice))
    assert "numpy is installed twice (1.26.4 and 2.1.0)" in found.detail


def test_requires_python_excluding_this_python_fails():
    old_torch = dist("torch", "2.2.0", requires_python=">=3.8,<3.12")
    found = python_env.python_version(ctx(facts(old_torch, version="3.12.4")))
    assert found.status == "fail"
    assert "torch 2.2.0 requires Python >=3.8,<3.12" in found.detail


def test_very_new_and_too_old_pythons_warn():
    assert python_env.python_version(ctx(facts(version="3.14.0"))).status == "warn"
    assert python_env.python_version(ctx(facts(version="3.9.18"))).status == "warn"
    assert python_env.python_version(ctx(facts(TORCH))).status == "ok"


def test_native_windows_recommends_wsl2():
    found = python_env.platform(ctx(windows()))
    assert found.status == "warn"
    assert "Ray" in found.detail and "NCCL" in found.detail and "flash-attn" in found.detail
    assert "wsl --install" in found.fix


def test_wsl2_notes_the_windows_driver_and_a_shadowing_linux_libcuda():
    assert python_env.platform(ctx(wsl())).status == "ok"
    shadowed = wsl(
        libcuda=(
            {"path": "/usr/lib/wsl/lib/libcuda.so.1", "real": "/usr/lib/wsl/lib/libcuda.so.1"},
            {
                "path": "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                "real": "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54",
            },
        )
    )
    found = python_env.platform(ctx(shadowed))
    assert found.status == "warn" and found.catalog_id == "wsl_double_free"
    assert "/usr/lib/x86_64-linux-gnu/libcuda.so.1" in found.detail


def test_wsl1_has_no_gpu():
    found = python_env.platform(ctx(wsl(wsl_version=1)))
    assert found.status == "fail" and "wsl --set-version Ubuntu-22.04 2" in found.fix


def test_gbk_console_warns_with_utf8_mode_fix():
    gbk = windows(stdout_encoding="gbk", preferred_encoding="cp936", console_codepage=936)
    found = python_env.console_encoding(ctx(gbk))
    assert found.status == "warn" and found.catalog_id == "console_encoding"
    assert "gbk" in found.detail and "936" in found.detail
    assert "PYTHONUTF8" in found.fix


def test_pythonioencoding_or_utf8_mode_make_the_console_fine():
    env = MappingProxyType({"PYTHONIOENCODING": "utf-8:replace"})
    assert python_env.console_encoding(ctx(windows(stdout_encoding="gbk", env=env))).status == "ok"
    env = MappingProxyType({"PYTHONUTF8": "1"})
    assert python_env.console_encoding(ctx(windows(stdout_encoding="cp1252", env=env))).status == (
        "ok"
    )


def test_latin1_linux_locale_warns_with_export_fix():
    found = python_env.console_encoding(ctx(facts(stdout_encoding="ISO-8859-1")))
    assert found.status == "warn" and "PYTHONIOENCODING=utf-8" in found.fix


def test_hf_hub_shows_cache_free_space_settings_and_masked_token():
    token_facts = facts(token="hf_S…90", token_source="HF_TOKEN")
    found = host.hf_hub(ctx(token_facts))
    assert found.status == "ok"
    assert "/home/ada/.cache/huggingface/hub" in found.detail and "200.0 GiB free" in found.detail
    assert "hf_S…90 (from HF_TOKEN)" in found.detail
    assert "HF_HUB_DOWNLOAD_TIMEOUT=600" in found.fix and found.catalog_id == "hub_download_timeout"


def test_hf_hub_warns_on_a_full_disk_offline_mode_and_the_old_cache_variable():
    assert host.hf_hub(ctx(facts(hf_cache_free_bytes=3 * GIB))).status == "warn"
    offline = facts(env=MappingProxyType({"HF_HUB_OFFLINE": "1"}))
    assert "Offline mode" in host.hf_hub(ctx(offline)).detail
    old = facts(env=MappingProxyType({"TRANSFORMERS_CACHE": "/data/hf"}))
    assert "export HF_HUB_CACHE=/data/hf" in host.hf_hub(ctx(old)).fix


def test_full_token_never_appears_in_any_finding():
    from cockpit.doctor.facts_script import mask
    from cockpit.doctor.runner import run_checks

    masked = mask(SECRET_TOKEN)
    assert masked == "hf_S…90"
    token_facts = facts(TORCH, token=masked, token_source="HF_TOKEN")
    findings = run_checks(ctx(token_facts))
    assert "hf_S…90" in text(findings)
    assert SECRET_TOKEN not in text(findings)
    assert SECRET_TOKEN[4:-2] not in text(findings)


def test_short_secrets_are_masked_entirely():
    from cockpit.doctor.facts_script import mask

    assert mask("hf_short") == "…"


def test_resources_default_to_a_3b_model_and_say_so():
    found = host.resources(ctx(facts()))
    assert found.status == "ok" and "3B model (default; no profile given)" in found.detail


def test_resources_warn_when_ram_cannot_hold_the_largest_profile_model():
    eight_b = ModelSize("Llama-3.1-8B", 8.0e9)
    small_box = facts(ram_total_bytes=8 * GIB, ram_available_bytes=6 * GIB)
    found = host.resources(ctx(small_box, models=(ModelSize("tiny", 1e6), eight_b)))
    assert found.status == "warn"
    assert "Llama-3.1-8B" in found.detail and "RAM 8.0 GiB is below the 14.9 GiB" in found.detail
    assert "4-bit" in found.fix


def test_resources_warn_on_disk_for_download_and_merge():
    found = host.resources(ctx(facts(hf_cache_free_bytes=9 * GIB)))
    assert found.status == "warn" and "free disk" in found.detail
