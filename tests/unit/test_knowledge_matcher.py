"""The matcher finds causes in real-looking logs, once per region, and stays quiet on clean ones."""

# ruff: noqa: E501  (verbatim log lines are long)

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.knowledge.matcher import normalise, scan_lines, scan_text

LOGS = Path(__file__).with_name("knowledge_logs")

# The seeds' own error lines (../shared/seeds), the cause, and a piece of the fix they used.
SEED_ERRORS = [
    (
        "AttributeError: module 'torch' has no attribute 'int1'",
        "torch_torchao_mismatch",
        "--pre torch",
    ),
    (
        "`ResolutionImpossible`. Manual attempts to downgrade `transformers` to 4.47.1 failed",
        "pip_dependency_conflict",
        "compatible pins",
    ),
    (
        "RuntimeError: Unexpected optimization option triton.enable_persistent_tma_matmul",
        "torch_inductor_option_mismatch",
        "UNSLOTH_SKIP_COMPILER=1",
    ),
    (
        "Error: RuntimeError: Failed to find C compiler",
        "triton_no_c_compiler",
        "apt install build-essential",
    ),
    (
        "HINT: This error might have occurred since this system does not have Windows Long Path support enabled.",
        "flash_attn_build_long_path",
        "VLLM_ATTENTION_BACKEND=XFORMERS",
    ),
    (
        "ERROR: Could not find a version that satisfies the requirement nvidia-nccl-cu12==2.21.5\n(from versions: 0.0.1.dev5)\nERROR: No matching distribution found for nvidia-nccl-cu12==2.21.5",
        "nccl_missing_windows",
        "N_GPUS_PER_NODE=1",
    ),
    (
        "Error while downloading model-00001-of-00002.safetensors:\nHTTPSConnectionPool(host='cas-bridge.xethub.hf.co', port=443): Read timed out.",
        "hub_download_timeout",
        "HF_HUB_DOWNLOAD_TIMEOUT=600",
    ),
    (
        "UnicodeEncodeError: 'gbk' codec can't encode character '\\u2705' in position 0:\nillegal multibyte sequence",
        "console_encoding",
        "PYTHONUTF8=1",
    ),
    (
        "[raylet] *** SIGSEGV received at time=1762934554 ***\n[raylet] The raylet exited immediately because one Ray agent failed, agent_name = dashboard_agent\nray.exceptions.ActorDiedError: The actor died unexpectedly before finishing this task",
        "ray_windows_segfault",
        "WSL2",
    ),
    (
        "(pid=5477) free(): double free detected in tcache 2\n(pid=5477) *** SIGABRT received at time=1762938208 on cpu 11 ***\nFatal Python error: Aborted",
        "wsl_double_free",
        "torch==2.4.0",
    ),
    (
        "You can't train a model that has been loaded in 8-bit or 4-bit precision on a different device",
        "quantized_device_map",
        'device_map={"": torch.cuda.current_device()}',
    ),
    (
        "ModuleNotFoundError: No module named 'pydantic_settings'",
        "pydantic_settings_missing",
        "pydantic-settings",
    ),
    ("A module that was compiled using NumPy 1.x cannot be run in", "numpy2_abi", '"numpy<2"'),
    (
        "/usr/bin/python3: No module named verl.trainer.main_ppo.__main__",
        "wrong_python_interpreter",
        "conda activate",
    ),
]


@pytest.mark.parametrize(("text", "cause", "fix"), SEED_ERRORS, ids=[s[1] for s in SEED_ERRORS])
def test_seed_errors_are_recognised_with_the_seed_fix(text: str, cause: str, fix: str) -> None:
    found = scan_text(text)
    assert [match.id for match in found] == [cause]
    assert fix in found[0].fix


@pytest.mark.parametrize("name", sorted(p.name for p in LOGS.glob("clean_*.log")))
def test_clean_logs_have_no_error_finding(name: str) -> None:
    text = (LOGS / name).read_text(encoding="utf-8")
    assert [m for m in scan_text(text) if m.severity == "error"] == []


def test_at_least_five_clean_logs() -> None:
    assert len(list(LOGS.glob("clean_*.log"))) >= 5


@pytest.mark.parametrize(
    "line",
    [
        "> RuntimeError: Failed to find C compiler. Please specify via CC environment variable.",
        "[1745] RuntimeError: Failed to find C compiler",
        "2025-11-12T15:18:03.123Z RuntimeError: Failed to find C compiler",
        "2025-11-12 15:18:03,123 ERROR RuntimeError: Failed to find C compiler",
        "[12:00:01] RuntimeError: Failed to find C compiler",
        ">> [1745] [12:00:01] RuntimeError: Failed to find C compiler",
    ],
)
def test_prefixed_lines_are_matched_and_excerpt_is_clean(line: str) -> None:
    found = scan_lines(["step 1", line])
    assert [(m.id, m.line) for m in found] == [("triton_no_c_compiler", 2)]
    assert found[0].excerpt.startswith("RuntimeError: Failed")


def test_tqdm_carriage_return_updates_are_split() -> None:
    line = " 10%|█  | 1/10 [00:01<00:09]\rtorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert normalise(line)[1].startswith("torch.OutOfMemoryError")
    found = scan_lines([line])
    assert found[0].id == "cuda_oom"
    assert found[0].excerpt.startswith("torch.OutOfMemoryError")


def test_traceback_gives_one_finding_per_cause() -> None:
    traceback = [
        "Traceback (most recent call last):",
        '  File "train.py", line 80, in <module>',
        "    trainer.train()",
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has 3.68 GiB",
        "of which 1.1 GiB is free. Tried to allocate 2.00 GiB more",
        "[rank0]: torch.OutOfMemoryError: CUDA out of memory.",
    ]
    found = scan_lines(traceback)
    assert [(m.id, m.line) for m in found] == [("cuda_oom", 4)]


def test_same_cause_far_apart_is_reported_twice() -> None:
    lines = ["RuntimeError: CUDA error: out of memory", *(["{'loss': 1.0}"] * 100)]
    lines.append("RuntimeError: CUDA error: out of memory")
    assert [m.line for m in scan_lines(lines)] == [1, 102]


def test_specific_cause_wins_over_generic_import_error() -> None:
    found = scan_text("ImportError: cannot import name 'x': module 'torch' has no attribute 'int1'")
    assert [m.id for m in found] == ["torch_torchao_mismatch"]


def test_nccl_wheel_on_windows_is_not_a_generic_missing_version() -> None:
    found = scan_text("ERROR: No matching distribution found for nvidia-nccl-cu12==2.21.5")
    assert [m.id for m in found] == ["nccl_missing_windows"]


def test_excerpt_is_redacted_and_bounded() -> None:
    token_line = "huggingface_hub.errors: Read timed out (token hf_abcdefghijklmnopqrstuvwx)"
    found = scan_lines([token_line + " x" * 500])
    assert "hf_abcdefghijklmnopqrstuvwx" not in found[0].excerpt
    assert "hf_…(redacted)" in found[0].excerpt
    assert len(found[0].excerpt) <= 260


def test_empty_and_keywordless_text() -> None:
    assert scan_text("") == []
    assert scan_lines([]) == []
    assert scan_text("nothing to see\n" * 1000) == []
