"""Every required cause is recognised from realistic log excerpts, and wins its line."""

# ruff: noqa: E501  (verbatim log lines are long)

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.doctor.checks._base import TITLES
from cockpit.knowledge.catalog import CatalogError, entries, load_entries
from cockpit.knowledge.matcher import scan_text

REQUIRED = {
    "cuda_oom": [
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 3.68 GiB of which 1.12 GiB is free.",
        "RuntimeError: CUDA error: out of memory\nCUDA kernel errors might be asynchronously reported",
        "torch.cuda.OutOfMemoryError: Tried to allocate 512.00 MiB (GPU 0; 4.00 GiB total capacity)",
    ],
    "quantized_device_map": [
        "ValueError: You can't train a model that has been loaded in 8-bit or 4-bit precision on a different device than the one you're training on.",
        "ValueError: You can't train a model that has been loaded in 8-bit precision on a different device than the one you're training on. Make sure you loaded the model on the correct device",
    ],
    "tensor_device_mismatch": [
        "RuntimeError: Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
        "RuntimeError: Expected all tensors to be on the same device, but got index is on cpu, different from other tensors on cuda:0 (when checking argument in method wrapper_CUDA__index_select)",
    ],
    "cuda_device_side_assert_vocab": [
        "../aten/src/ATen/native/cuda/Indexing.cu:1289: indexSelectLargeIndex: block: [251,0,0], thread: [64,0,0] Assertion `srcIndex < srcSelectDimSize` failed.",
        "RuntimeError: CUDA error: device-side assert triggered\nCompile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.",
        "IndexError: index out of range in self",
    ],
    "cublas_not_initialized": [
        "RuntimeError: CUDA error: CUBLAS_STATUS_NOT_INITIALIZED when calling `cublasCreate(handle)`",
        "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
    ],
    "cuda_arch_unsupported": [
        "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch installation.",
        "RuntimeError: CUDA error: no kernel image is available for execution on the device",
        "The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90.",
    ],
    "loss_nan": [
        "{'loss': nan, 'grad_norm': nan, 'learning_rate': 0.0002, 'epoch': 0.12}",
        "step 120: loss = inf",
        "{'loss': 0.0, 'grad_norm': nan} ... Detected NaN loss at step 57",
    ],
    "tokenizer_pad_token_missing": [
        "ValueError: Asking to pad but the tokenizer does not have a padding token. Please select a token to use as `pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)`",
        "tokenizer.pad_token is None; cannot build padded batches",
    ],
    "trl_api_change": [
        "TypeError: SFTTrainer.__init__() got an unexpected keyword argument 'tokenizer'",
        "TypeError: SFTConfig.__init__() got an unexpected keyword argument 'max_seq_length'",
        "TypeError: TrainingArguments.__init__() got an unexpected keyword argument 'evaluation_strategy'",
    ],
    "torch_torchao_mismatch": [
        "AttributeError: module 'torch' has no attribute 'int1'",
        "ImportError: torchao 0.12.0 requires torch>=2.6.0 but torch 2.5.1 is installed",
    ],
    "torch_inductor_option_mismatch": [
        "RuntimeError: Unexpected optimization option triton.enable_persistent_tma_matmul",
        "RuntimeError: Unexpected optimization option epilogue_fusion_first, known options are ['epilogue_fusion', 'max_autotune']",
    ],
    "triton_no_c_compiler": [
        "RuntimeError: Failed to find C compiler. Please specify via CC environment variable.",
        '    raise RuntimeError("Failed to find C compiler. Please specify via CC environment variable.")',
    ],
    "triton_missing_python_headers": [
        "/tmp/tmpabc/main.c:5:10: fatal error: Python.h: No such file or directory",
        "subprocess.CalledProcessError: ... cuda_utils.c:6:10: fatal error: Python.h: No such file or directory\n compilation terminated.",
    ],
    "pip_dependency_conflict": [
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts",
        "unsloth 2026.1.4 requires transformers>=4.51.3, but you have transformers 4.47.1 which is incompatible.",
        "  × No solution found when resolving dependencies:\n  ╰─▶ Because unsloth==2026.10.9 depends on trl<=1.15.0 and you require trl==1.16, we can conclude that your requirements are unsatisfiable.",
    ],
    "unpublished_dependency_version": [
        "ERROR: Could not find a version that satisfies the requirement torch==2.9.9 (from versions: 2.5.1, 2.6.0)",
        "ERROR: No matching distribution found for vllm==0.8.5.post2",
    ],
    "transformers_version_floor": [
        "ImportError: Unsloth: Please update transformers: pip install --upgrade transformers",
        "ImportError: trl 1.16 requires transformers>=5.20.0; found 5.10.1",
        "ImportError: transformers>=4.51.3 is required for a normal functioning of this module, but found transformers==4.47.1.",
    ],
    "unsloth_no_accelerator": [
        "NotImplementedError: Unsloth cannot find any torch accelerator? You need a GPU.",
        "NotImplementedError: Unsloth currently only works on NVIDIA GPUs and Intel GPUs.",
    ],
    "bnb_no_gpu_support": [
        "UserWarning: The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers, 8-bit multiplication, and GPU quantization are unavailable.",
        "bitsandbytes was compiled without GPU support. 8-bit optimizers are unavailable.",
    ],
    "bnb_cuda_setup_failed": [
        "RuntimeError: CUDA Setup failed despite GPU being available. Please run the following command to get more information: python -m bitsandbytes",
        "CUDA SETUP: Problem: The main issue seems to be that the main CUDA runtime library was not detected.",
        "OSError: libcudart.so.12: cannot open shared object file: No such file or directory",
    ],
    "xformers_version_mismatch": [
        "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.3.0+cu121 with CUDA 1201 (you have 2.5.1+cu124)",
        "xFormers was built for: PyTorch 2.4.0+cu121 with CUDA 1201 (you have 2.6.0+cu126)",
    ],
    "flash_attn_build_long_path": [
        "HINT: This error might have occurred since this system does not have Windows Long Path support enabled. You can find information on how to enable this at https://pip.pypa.io/warnings/enable-long-paths",
        "error: could not create 'build\\lib.win-amd64-cpython-310\\flash_attn\\...': path too long; enable Long Path support",
    ],
    "flash_attn_build_no_cuda_home": [
        "OSError: CUDA_HOME environment variable is not set. Please set it to your CUDA install root.",
        "FileNotFoundError: [Errno 2] No such file or directory: '/usr/local/cuda/bin/nvcc'",
        "/bin/sh: 1: nvcc: not found",
    ],
    "nccl_missing_windows": [
        "ERROR: Could not find a version that satisfies the requirement nvidia-nccl-cu12==2.21.5 (from versions: 0.0.1.dev5)",
        "RuntimeError: Distributed package doesn't have NCCL built in",
    ],
    "nccl_timeout": [
        "[Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=42, OpType=ALLREDUCE, NumelIn=1, Timeout(ms)=600000) ran for 600012 milliseconds before timing out.",
        "torch.distributed.DistBackendError: [ProcessGroupNCCL] Timeout at NCCL work: 17, last enqueued NCCL work: 17",
    ],
    "nccl_shm_exhausted": [
        "NCCL WARN Error while creating shared memory segment /dev/shm/nccl-ab12 (size 9637888)",
        "misc/shmutils.cc:72 NCCL WARN Error: failed to extend /dev/shm/nccl-xyz to 9637892 bytes",
        "RuntimeError: unable to write to file </torch_123_456>: No space left on device (28) /dev/shm",
    ],
    "ray_windows_segfault": [
        "[raylet] *** SIGSEGV received at time=1762934554 ***",
        "[raylet] The raylet exited immediately because one Ray agent failed, agent_name = dashboard_agent",
    ],
    "wsl_double_free": [
        "(pid=5477) free(): double free detected in tcache 2",
        "free(): double free detected in tcache 2\nAborted (core dumped)",
    ],
    "numpy2_abi": [
        "A module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.0.2 as it may crash.",
        "ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, got 88 from PyObject",
        "AttributeError: _ARRAY_API not found",
    ],
    "pydantic_settings_missing": [
        "pydantic.errors.PydanticImportError: `BaseSettings` has been moved to the `pydantic-settings` package.",
        "ModuleNotFoundError: No module named 'pydantic_settings'",
    ],
    "hub_download_timeout": [
        "HTTPSConnectionPool(host='cas-bridge.xethub.hf.co', port=443): Read timed out.",
        "requests.exceptions.ChunkedEncodingError: ('Connection broken: IncompleteRead(1012406 bytes read, 433945418 more expected)', ...)",
        "httpx.ReadTimeout: The read operation timed out",
    ],
    "console_encoding": [
        "UnicodeEncodeError: 'gbk' codec can't encode character '\\u2705' in position 0: illegal multibyte sequence",
        "UnicodeEncodeError: 'charmap' codec can't encode character '\\u2588' in position 12: character maps to <undefined>",
    ],
    "windows_default_encoding_decode": [
        "UnicodeDecodeError: 'gbk' codec can't decode byte 0x80 in position 42: illegal multibyte sequence",
        "UnicodeDecodeError: 'charmap' codec can't decode byte 0x9d in position 1187: character maps to <undefined>",
    ],
    "wrong_python_interpreter": [
        "ModuleNotFoundError: No module named 'verl'",
        "/usr/bin/python3: Error while finding module specification for 'verl.trainer.main_ppo' (ModuleNotFoundError: No module named 'verl')",
    ],
}


def test_catalog_has_every_required_id_with_fields() -> None:
    ids = {entry.id for entry in entries()}
    assert set(REQUIRED) <= ids
    for entry in entries():
        assert entry.title and entry.explanation and entry.fix
        assert set(entry.doctor) <= set(TITLES), entry.id


CASES = [(cause, text) for cause, texts in REQUIRED.items() for text in texts]


@pytest.mark.parametrize(
    ("cause", "text"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_excerpt_is_recognised_as_its_cause(cause: str, text: str) -> None:
    log = f"Loading checkpoint shards: 100%|██████████| 2/2\n{text}\nTraceback above.\n"
    found = scan_text(log)
    assert found, f"nothing found for {cause}"
    assert found[0].id == cause
    assert found[0].line == 2
    assert found[0].severity == "error"


def test_every_required_cause_has_two_different_excerpts() -> None:
    for cause, texts in REQUIRED.items():
        assert len(set(texts)) >= 2, cause


def test_bad_catalog_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[entry]]\nid = "x"\ntitle = "t"\nseverity = "fatal"\nkeywords = ["a"]\n'
        'signatures = ["a"]\nexplanation = "e"\nfix = "f"\n'
    )
    with pytest.raises(CatalogError):
        load_entries(bad)
    bad.write_text(
        bad.read_text().replace('"fatal"', '"error"').replace('["a"]\nexpl', '["("]\nexpl')
    )
    with pytest.raises(CatalogError):
        load_entries(bad)
