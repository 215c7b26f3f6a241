"""GPU, CUDA/torch stack, quantization and Unsloth causes, named from their libraries' wordings.

Each excerpt is a message as torch, transformers, accelerate, bitsandbytes, flash-attn,
triton, DeepSpeed, vLLM, Unsloth or unsloth_zoo prints it (current and older releases),
mostly as users pasted it into issue threads. Each must give exactly its cause, at its
line, and `cockpit explain` must show that cause's fix. Lines that merely share words
with these causes (Unsloth banners, fallbacks, deprecation warnings) must give nothing,
and the older, more specific causes must keep their own lines.
"""

# ruff: noqa: E501  (verbatim log lines are long)

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.cli.explain import explain_main
from cockpit.knowledge.catalog import by_id, entries
from cockpit.knowledge.matcher import scan_text
from tests.fixtures.logs import failed_run_lines

LOGS = Path(__file__).with_name("knowledge_logs")

# id -> excerpts; an excerpt is the text (its first line is the one to find) or
# (text, index of the line to find) for tracebacks.
CAUSES: dict[str, list[str | tuple[str, int]]] = {
    "flash_attn_unsupported_gpu": [
        "RuntimeError: FlashAttention only supports Ampere GPUs or newer.",
        "RuntimeError: Expected is_sm80 || is_sm90 to be true, but got false.  (Could this error message be improved?  If so, please report an enhancement request to PyTorch.)",
        "RuntimeError: Expected is_sm90 || is_sm8x || is_sm75 to be true, but got false.",
        "ERROR 01-11 13:09:40 engine.py:366] RuntimeError: Error in model execution (input dumped to /tmp/err_execute_model_input_20250111-130939.pkl): FlashAttention only supports Ampere GPUs or newer.",
        "ImportError: FlashAttention3 has been toggled on, but it cannot be used due to the following error: FlashAttention3 requires compute capability >= 8, but found (7, 5) with compute capability 7.x",
    ],
    "bf16_unsupported": [
        "ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, using Ampere GPU with cuda>=11.0",
        "ValueError: Your setup doesn't support bf16/gpu. You need to assign use_cpu if you want to train the model on CPU. You need Ampere+ GPU with cuda>=11.0.",
        "ValueError: bf16 mixed precision requires PyTorch >= 1.10 and a supported device.",
        "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly setting the`dtype` flag in CLI, for example: --dtype=half.",
        "TypeError: Unsloth: Model is in float16 precision but you want to use bfloat16 precision. Set fp16 to `True` and bf16 to `False`",
        "RuntimeError: Current CUDA Device does not support bfloat16. Please switch dtype to float16.",
    ],
    "cuda_driver_too_old": [
        "RuntimeError: The NVIDIA driver on your system is too old (found version 11040). Please update your GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx Alternatively, go to: https://pytorch.org to install a PyTorch version that has been compiled with your version of the CUDA driver.",
        "/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py:124: UserWarning: CUDA initialization: The NVIDIA driver on your system is too old (found version 11000). Please update your GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx (Triggered internally at /opt/pytorch/pytorch/c10/cuda/CUDAFunctions.cpp:108.)",
        "RuntimeError: CUDA error: CUDA driver version is insufficient for CUDA runtime version",
        "RuntimeError: Triton Error [CUDA]: the provided PTX was compiled with an unsupported toolchain.",
    ],
    "bnb_windows_build": [
        (
            '  File "C:\\Users\\User\\text-gen\\textenv\\lib\\site-packages\\bitsandbytes\\cextension.py", line 31, in initialize\n'
            "    self.lib = ct.cdll.LoadLibrary(binary_path)\n"
            "TypeError: argument of type 'WindowsPath' is not iterable",
            2,
        ),
        "C:\\Users\\Ross\\AppData\\Local\\Programs\\Python\\Python310\\lib\\site-packages\\bitsandbytes\\cuda_setup\\paths.py:27: UserWarning: WARNING: The following directories listed in your path were found to be non-existent: {WindowsPath('/usr/local/cuda/lib64')}",
        "CUDA SETUP: Loading binary D:\\Kohya\\kohya_ss\\venv\\lib\\site-packages\\bitsandbytes\\libbitsandbytes_cpu.so...",
        "FileNotFoundError: Could not find module 'C:\\Python310\\lib\\site-packages\\bitsandbytes\\libbitsandbytes_cuda116.dll' (or one of its dependencies). Try using the full path with constructor syntax.",
    ],
    "bnb_4bit_requires_cuda_gpu": [
        "RuntimeError: No GPU found. A GPU is needed for quantization.",
        "RuntimeError: No GPU or Intel XPU found. A GPU or Intel XPU is needed for quantization.",
        "An error occurred: CUDA is required but not available for bitsandbytes. Please consider installing the multi-platform enabled version of bitsandbytes, which is currently a work in progress.",
        "ImportError: Using `load_in_8bit=True` requires Accelerate: `pip install accelerate` and the latest version of bitsandbytes `pip install -i https://test.pypi.org/simple/ bitsandbytes` or pip install bitsandbytes`",
        "ImportError: Using `bitsandbytes` 4-bit quantization requires the latest version of bitsandbytes: `pip install -U bitsandbytes`",
        "RuntimeError: None of the available devices `available_devices = None` are supported by the bitsandbytes version you have installed: `bnb_supported_devices = {'cuda'}`. Please check the docs to see if the backend you intend to use is available and how to install it",
    ],
    "bnb_int8_gpu_unsupported": [
        "ERROR: Your GPU does not support Int8 Matmul!",
        "python: /mmfs1/gscratch/zlab/timdettmers/git/bitsandbytes/csrc/ops.cu:408: int igemmlt(cublasLtHandle_t, int, int, int, const int8_t*, const int8_t*, void*, float*, int, int, int) [with int FORMATB = 3; int DTYPE_OUT = 32; int SCALE_ROWS = 0]: Assertion `false' failed.",
        "Exception: cublasLt ran into an error!",
        "NotImplementedError: int8_linear_matmul not implemented!",
    ],
    "quantized_model_offloaded": [
        "ValueError: Some modules are dispatched on the CPU or the disk. Make sure you have enough GPU RAM to fit the quantized model. If you want to dispatch the model on the CPU or the disk while keeping these modules in 32-bit, you need to set `llm_int8_enable_fp32_cpu_offload=True` and pass a custom `device_map` to `from_pretrained`.",
        (
            "ValueError:\n"
            "    Some modules are dispatched on the CPU or the disk. Make sure you have enough GPU RAM to fit\n"
            "    the quantized model. If you want to dispatch the model on the CPU or the disk while keeping\n"
            "    these modules in 32-bit, you need to set `load_in_8bit_fp32_cpu_offload=True` and pass a custom",
            1,
        ),
        "the quantized model. If you want to dispatch the model on the CPU or the disk while keeping these modules in `torch_dtype`, you need to pass a custom `device_map` to `load_and_quantize_model`.",
    ],
    "qlora_no_adapter_attached": [
        "ValueError: You cannot perform fine-tuning on purely quantized models. Please attach trainable adapters on top of the quantized model to correctly perform fine-tuning. Please see: https://huggingface.co/docs/transformers/peft for more details",
        "RuntimeError: only Tensors of floating point dtype can require gradients",
        "RuntimeError: only Tensors of floating point and complex dtype can require gradients",
    ],
    "deepspeed_zero3_device_map": [
        "ValueError: DeepSpeed Zero-3 is not compatible with `low_cpu_mem_usage=True` or with passing a `device_map`.",
        "ValueError: DeepSpeed Zero-3 is not compatible with passing a `device_map`.",
        "[rank1]: ValueError: DeepSpeed ZeRO-3 or FSDP is incompatible with PTQ-quantized models.",
    ],
    "fsdp_mixed_dtype_params": [
        "ValueError: Must flatten tensors with uniform dtype but got torch.float16 and torch.int8",
        "ValueError: Cannot flatten integer dtype tensors",
        "ValueError: Integer parameters are unsupported",
        "AssertionError: FSDP expects uniform original parameter dtype but got {torch.bfloat16, torch.float32}",
    ],
    "unsloth_untrained_tokens": [
        'ValueError: Unsloth: Untrained tokens of [[128042, 128036]] found, but embed_tokens & lm_head not trainable, causing NaNs. Restart then add `embed_tokens` & `lm_head` to `FastLanguageModel.get_peft_model(target_modules = [..., "embed_tokens", "lm_head",]). `Are you using the `base` model? Instead, use the `instruct` version to silence this warning.',
        "ValueError: Unsloth: Untrained tokens found, but embed_tokens & lm_head not trainable, causing ",
        (
            "ValueError: Unsloth: Untrained tokens in rows [[3, 17]] found.\n"
            "The token ids are [[128011]] and tokens are [<|reserved_special_token_3|>].\n"
            "The issue is the embed_tokens & lm_head not trainable, which will cause NaNs. Restart then add `embed_tokens` & `lm_head`",
            0,
        ),
    ],
    "unsloth_zoo_version_skew": [
        "ImportError: Unsloth: Please install unsloth_zoo via `pip install unsloth_zoo` then retry!",
        "ImportError: Unsloth: Please update unsloth_zoo via `pip install --upgrade --no-cache-dir --no-deps unsloth_zoo`",
        (
            "Unsloth: Please update Unsloth and Unsloth-Zoo to the latest version!\n"
            "Do this via `pip install --upgrade --force-reinstall --no-cache-dir --no-deps unsloth unsloth_zoo`",
            0,
        ),
        "ImportError: cannot import name 'patch_compiling_bitsandbytes' from 'unsloth_zoo.patching_utils' (/usr/local/lib/python3.11/dist-packages/unsloth_zoo/patching_utils.py)",
        "ModuleNotFoundError: No module named 'unsloth_zoo.temporary_patches'",
    ],
    "unsloth_vllm_version_skew": [
        "AttributeError: 'LlamaForCausalLM' object has no attribute 'vllm_engine'",
        "AttributeError: 'LLMEngine' object has no attribute 'model_executor'",
        "AttributeError: 'LRUCacheWorkerLoRAManager' object has no attribute 'get_dummy_lora_warmup_rank'",
        "RuntimeError: Unsloth: vLLM 0.10.x crashes with std::bad_alloc when standby mode is enabled due to insufficient memory headroom in CuMemAllocator.",
    ],
    "unsloth_trl_skew": [
        "AttributeError: 'UnslothSFTConfig' object has no attribute 'get'",
        "AttributeError: 'UnslothTrainingArguments' object has no attribute 'packing'",
        "AttributeError: _unwrapped_old_generate",
        "TypeError: UnslothGRPOTrainer.__init__() got an unexpected keyword argument 'tokenizer'",
    ],
    "unsloth_torch_too_old": [
        "ImportError: Unsloth only supports Pytorch 2 for now. Please update your Pytorch to 2.1.",
        "AttributeError: module 'torch.compiler' has no attribute 'set_stance'",
        "AttributeError: module 'torch.amp' has no attribute 'is_autocast_available'",
        "ModuleNotFoundError: No module named 'torch.nn.attention'",
        "RuntimeError: Intel xpu currently supports unsloth with torch.version >= 2.6.0",
    ],
    "triton_not_installed": [
        "ModuleNotFoundError: No module named 'triton'",
        "RuntimeError: Cannot find a working triton installation. More information on installing Triton can be found at https://github.com/openai/triton",
        "torch._inductor.exc.TritonMissing: Cannot find a working triton installation. Either the package is not installed or it is too old. More information on installing Triton can be found at: https://github.com/triton-lang/triton",
    ],
    "torch_triton_version_mismatch": [
        "ImportError: cannot import name 'AttrsDescriptor' from 'triton.compiler.compiler' (/usr/local/lib/python3.11/dist-packages/triton/compiler/compiler.py)",
        "ImportError: cannot import name 'AttrsDescriptor' from 'triton.backends.compiler'",
        "ImportError: cannot import name 'triton_key' from 'triton.compiler.compiler'",
        "ModuleNotFoundError: No module named 'triton.ops'",
    ],
    "torch_compile_failure": [
        (
            "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\n"
            "AssertionError: expected size 128==64, stride 1==1 at dim=0",
            0,
        ),
        "torch._dynamo.exc.TorchRuntimeError: Failed running call_function <built-in function linear>(*(FakeTensor(..., device='cuda:0', size=(1, 512, 2048), dtype=torch.float16), Parameter(FakeTensor(..., device='cuda:0', size=(2048, 2048), dtype=torch.uint8))), **{}):",
        "torch._inductor.exc.InductorError: LoweringException: AssertionError:",
        "torch._dynamo.exc.Unsupported: Attempted to call function marked as skipped",
        "RuntimeError: Dynamo is not supported on Python 3.12+",
        "RuntimeError: Found Tesla P100-PCIE-16GB which is too old to be supported by the triton GPU compiler, which is used as the backend. Triton only supports devices of CUDA Capability >= 7.0, but your device is of CUDA capability 6.0",
    ],
    "accelerate_version_skew": [
        "TypeError: Accelerator.__init__() got an unexpected keyword argument 'dispatch_batches'",
        "TypeError: Accelerator.unwrap_model() got an unexpected keyword argument 'keep_torch_compile'",
        "ImportError: cannot import name 'is_npu_available' from 'accelerate.utils' (/usr/local/lib/python3.10/dist-packages/accelerate/utils/__init__.py)",
        "ImportError: Using the `Trainer` with `PyTorch` requires `accelerate>=0.20.1`: Please run `pip install transformers[torch]` or `pip install accelerate -U`",
        "ImportError: Using `bitsandbytes` 4-bit quantization requires accelerate: `pip install 'accelerate>=0.26.0'`",
    ],
    "cuda_invalid_device_ordinal": [
        (
            "RuntimeError: CUDA error: invalid device ordinal\n"
            "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.",
            0,
        ),
        "RuntimeError: Attempting to deserialize object on CUDA device 1 but torch.cuda.device_count() is 1. Please use torch.load with map_location to map your storages to an existing device.",
        "cupy_backends.cuda.api.runtime.CUDARuntimeError: cudaErrorInvalidDevice: invalid device ordinal",
    ],
    "cuda_no_device_visible": [
        "RuntimeError: No CUDA GPUs are available",
        "RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx",
        "RuntimeError: Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to map your storages to the CPU.",
        "RuntimeError: CUDA error: no CUDA-capable device is detected",
    ],
    "torch_cpu_build": [
        "AssertionError: Torch not compiled with CUDA enabled",
        (
            '  File "C:\\Python311\\Lib\\site-packages\\torch\\cuda\\__init__.py", line 310, in _lazy_init\n'
            '    raise AssertionError("Torch not compiled with CUDA enabled")\n'
            "AssertionError: Torch not compiled with CUDA enabled",
            1,
        ),
        "RuntimeError: PyTorch not compiled with CUDA support!",
    ],
    "dist_port_in_use": [
        "torch.distributed.DistNetworkError: The server socket has failed to listen on any local network address. port: 29500, useIpv6: 0, code: -98, name: EADDRINUSE, message: address already in use",
        "RuntimeError: The server socket has failed to bind to [::]:29500 (errno: 98 - Address already in use). The server socket has failed to bind to 0.0.0.0:29500 (errno: 98 - Address already in use).",
        "RuntimeError: Address already in use",
    ],
    "dist_process_group_not_initialized": [
        "ValueError: Default process group has not been initialized, please make sure to call init_process_group.",
        "AssertionError: Default process group is not initialized",
        "AssertionError: DeepSpeed backend not set, please initialize it using init_process_group()",
    ],
    "cudnn_failure": [
        "RuntimeError: cuDNN error: CUDNN_STATUS_NOT_SUPPORTED. This error may appear if you passed in a non-contiguous input.",
        "RuntimeError: cuDNN error: CUDNN_STATUS_EXECUTION_FAILED",
        "RuntimeError: GET was unable to find an engine to execute this computation",
        "Could not load library libcudnn_cnn_infer.so.8. Error: libnvrtc.so: cannot open shared object file: No such file or directory",
        "Unable to load any of {libcudnn_ops.so.9.1.0, libcudnn_ops.so.9.1, libcudnn_ops.so.9, libcudnn_ops.so}",
    ],
    "cuda_illegal_memory_access": [
        "RuntimeError: CUDA error: an illegal memory access was encountered",
        "Search for `cudaErrorIllegalAddress' in https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__TYPES.html for more information.",
        "RuntimeError: CUDA error: misaligned address",
    ],
    "grad_checkpointing_no_grad": [
        "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn",
        (
            '  File "/usr/local/lib/python3.10/dist-packages/torch/autograd/__init__.py", line 200, in backward\n'
            "    Variable._execution_engine.run_backward(  # Calls into the C++ engine to run the backward pass\n"
            "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn",
            2,
        ),
        "[rank0]: RuntimeError: element 1 of tensors does not require grad and does not have a grad_fn",
    ],
    "torch_load_weights_only": [
        "_pickle.UnpicklingError: Weights only load failed. This file can still be loaded, to do so you have two options, do those steps only if you trust the source of the checkpoint.",
        "WeightsUnpickler error: Unsupported global: GLOBAL numpy.core.multiarray._reconstruct was not an allowed global by default. Please use `torch.serialization.add_safe_globals([_reconstruct])` to allowlist this global if you trust this class/function.",
        "_pickle.UnpicklingError: Weights only load failed. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.",
    ],
    "torch_load_requires_torch26": [
        "ValueError: Due to a serious vulnerability issue in `torch.load`, even with `weights_only=True`, we now require users to upgrade torch to at least v2.6 in order to use the function. This version restriction does not apply when loading files with safetensors.",
        "Due to a serious vulnerability issue in torch.load, even with weights_only=True, we now require users to upgrade torch to at least v2.6",
        "[rank0]: ValueError: Due to a serious vulnerability issue in `torch.load`, even with `weights_only=True`, we now require users",
    ],
    "fp16_unscale_gradients": [
        "ValueError: Attempting to unscale FP16 gradients.",
        (
            '  File "/opt/conda/lib/python3.11/site-packages/torch/amp/grad_scaler.py", line 275, in _unscale_grads_\n'
            '    raise ValueError("Attempting to unscale FP16 gradients.")\n'
            "ValueError: Attempting to unscale FP16 gradients.",
            1,
        ),
        "[rank1]: ValueError: Attempting to unscale FP16 gradients.",
    ],
    "tensor_dtype_mismatch": [
        "RuntimeError: expected scalar type Half but found Float",
        "RuntimeError: expected mat1 and mat2 to have the same dtype, but got: float != c10::BFloat16",
        "RuntimeError: Input type (float) and bias type (c10::Half) should be the same",
    ],
    "host_oom_killed": [
        "Killed",
        "torch.distributed.elastic.multiprocessing.api: [ERROR] failed (exitcode: -9) local_rank: 0 (pid: 40693) of binary: /usr/bin/python3",
        "RuntimeError: DataLoader worker (pid 4567) is killed by signal: Killed. ",
        "Signal 9 (SIGKILL) received by PID 1234",
    ],
    "nccl_communicator_error": [
        (
            "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1970, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.20.5\n"
            "ncclUnhandledCudaError: Call to CUDA function failed.",
            0,
        ),
        "RuntimeError: NCCL error in: /opt/pytorch/pytorch/torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1269, unhandled system error, NCCL version 2.14.3",
        "ncclRemoteError: A call failed possibly due to a network error or a remote process exiting prematurely.",
    ],
    "triton_out_of_resources": [
        "triton.runtime.errors.OutOfResources: out of resource: shared memory, Required: 98304, Hardware limit: 65536. Reducing block sizes or `num_stages` may help.",
        "torch._inductor.exc.InductorError: OutOfResources: out of resource: shared memory, Required: 131072, Hardware limit: 101376.",
        "triton.runtime.autotuner.OutOfResources: out of resource: shared memory, Required: 65538, Hardware limit: 65536",
    ],
    "torch_torchvision_mismatch": [
        "RuntimeError: operator torchvision::nms does not exist",
        'ImportError: Unsloth: torch==2.8.0 requires torchvision>=0.23.0, but found torchvision==0.21.0+cu124. Try updating torchvision via `pip install --upgrade "torchvision>=0.23.0"`.',
        "ImportError: Unsloth: torchvision==0.22.0 claims to match torch==2.7.1, but its compiled operators do not load (RuntimeError: operator torchvision::nms does not exist).",
    ],
    "flash_attn_not_installed": [
        "ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: the package flash_attn seems to be not installed. Please refer to the documentation of https://huggingface.co/docs/transformers/perf_infer_gpu_one#flashattention-2 to install Flash Attention 2.",
        "ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: the package for FlashAttention2 doesn't seem to be installed.",
        "ImportError: Flash Attention 2 is not available. Please refer to the documentation of https://github.com/Dao-AILab/flash-attention for installing it. Make sure to have at least the version 2.1.0",
    ],
    "flash_attn_abi_mismatch": [
        "ImportError: /usr/local/lib/python3.10/dist-packages/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi",
        (
            "RuntimeError: Failed to import transformers.models.llama.modeling_llama because of the following error (look up to see its traceback):\n"
            "/opt/conda/lib/python3.11/site-packages/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: undefined symbol: _ZNK3c1010TensorImpl27throw_data_ptr_access_errorEv",
            1,
        ),
        "ImportError: /usr/lib/python3/dist-packages/flash_attn_3/_C.abi3.so: undefined symbol: _ZN3c1013MessageLoggerC1EPKciib",
    ],
    "cuda_driver_library_mismatch": [
        "Failed to initialize NVML: Driver/library version mismatch",
        "RuntimeError: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling NumCudaDevices() that might have already set an error? Error 803: system has unsupported display driver / cuda driver combination",
        "RuntimeError: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling NumCudaDevices() that might have already set an error? Error 804: forward compatibility was attempted on non supported HW",
    ],
    "cuda_launch_timeout": [
        "RuntimeError: CUDA error: the launch timed out and was terminated",
        "Search for `cudaErrorLaunchTimeout' in https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__TYPES.html for more information.",
        "numba.cuda.cudadrv.driver.CudaAPIError: [702] Call to cuCtxSynchronize results in CUDA_ERROR_LAUNCH_TIMEOUT",
    ],
    "quantized_model_moved": [
        "ValueError: `.to` is not supported for `4-bit` or `8-bit` bitsandbytes models. Please use the model as it is, since the model has already been set to the correct devices and casted to the correct `dtype`.",
        "ValueError: Calling `cuda()` is not supported for `8-bit` quantized models.  Please use the model as it is, since the model has already been set to the correct devices.",
        "ValueError: `.half()` is not supported for quantized model. Please use the model as it is, since the model has already been casted to the correct `dtype`.",
        "ValueError: You cannot cast a bitsandbytes model in a new `dtype`. Make sure to load the model using `from_pretrained` using the desired `dtype` by passing the correct `dtype` argument.",
    ],
}

CASES = [
    (cause, *(excerpt if isinstance(excerpt, tuple) else (excerpt, 0)))
    for cause, excerpts in CAUSES.items()
    for excerpt in excerpts
]
IDS = [f"{cause}-{i}" for i, (cause, _, _) in enumerate(CASES)]

# Lines that share these causes' words but report nothing wrong.
NEAR_MISSES = """\
Unsloth: Device does not support bfloat16. Will change to float16.
   \\\\   /|    Bfloat16 = FALSE. FA [Xformers = 0.0.28.post3. FA2 = False]
INFO 01-11 13:09:40 selector.py:141] Cannot use FlashAttention-2 backend for Volta and Turing GPUs.
WARNING[XFORMERS]: A matching Triton is not available, some optimizations will not be enabled
W0515 17:31:25.068000 27656 torch/_dynamo/convert_frame.py:1280] torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:
W1112 15:18:03.123000 4242 torch/_dynamo/convert_frame.py:906] torch._dynamo hit config.cache_size_limit (8)
Unsloth: Setting embed_tokens & lm_head untrained tokens to mean(trained) to counteract NaNs during training.
Counting untrained tokens: 100%|██████████| 16069/16069 [00:01<00:00, 9123.33 examples/s]
Unsloth: Not an error, but `max_lora_rank` is not supported in vLLM. Skipping.
Unsloth: vLLM loading unsloth/Qwen3-4B-unsloth-bnb-4bit with actual GPU utilization = 59.4%
Some modules are offloaded to the CPU or the disk. Note that these modules will be converted to 8-bit
Detected DeepSpeed ZeRO-3: activating zero.init() for this model
The model is loaded in 8-bit precision. To train this model you need to add additional modules inside the model such as adapters using `peft` library and freeze the model weights.
CUDA SETUP: Loading binary /home/u/.venv/lib/python3.10/site-packages/bitsandbytes/libbitsandbytes_cuda118.so...
FutureWarning: `torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use `torch.amp.custom_fwd(args..., device_type='cuda')` instead.
FutureWarning: You are using `torch.load` with `weights_only=False` (the current default value), which uses the default pickle module implicitly.
[W1112 socket.cpp:697] [c10d] The client socket has failed to connect to [localhost]:29500 (errno: 99 - Cannot assign requested address).
torch.distributed.elastic.multiprocessing.api: [WARNING] Sending process 1235 closing signal SIGTERM
INFO 03-01 10:00:00 multiproc_worker_utils.py:127] Killing local vLLM worker processes
gpu01:1234:5678 [1] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/IPC
torch.backends.cudnn.benchmark = True
`flash-attention` package not found, consider installing for better performance.
accelerate launch --num_processes 2 --main_process_port 29501 train.py
Unsloth: Will smartly offload gradients to save VRAM!
"""


def _log(text: str) -> str:
    return f"Loading checkpoint shards: 100%|██████████| 2/2\n{text}\nstep 7 done\n"


def test_every_cause_is_in_the_catalog_with_three_wordings() -> None:
    catalog = {entry.id: entry for entry in entries()}
    for cause, excerpts in CAUSES.items():
        assert cause in catalog, cause
        assert catalog[cause].severity == "error", cause
        assert len(set(map(str, excerpts))) >= 3, cause


@pytest.mark.parametrize(("cause", "text", "index"), CASES, ids=IDS)
def test_excerpt_gives_exactly_its_cause_at_its_line(cause: str, text: str, index: int) -> None:
    found = scan_text(_log(text))
    assert [match.id for match in found] == [cause]
    assert found[0].line == 2 + index


@pytest.mark.parametrize(("cause", "text", "index"), CASES, ids=IDS)
def test_explain_shows_the_fix(
    cause: str, text: str, index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.log"
    log.write_text(_log(text), encoding="utf-8")
    assert explain_main(str(log), as_json=False) == 1
    out = capsys.readouterr().out
    entry = by_id(cause)
    assert entry is not None
    assert f"({cause})" in out and entry.title in out
    for fix_line in entry.fix.splitlines():
        assert fix_line.strip() in out


def _mine() -> tuple:
    return tuple(entry for entry in entries() if entry.id in CAUSES)


def test_these_causes_stay_quiet_on_clean_logs() -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted(LOGS.glob("clean_*.log"))]
    texts.append("\n".join(failed_run_lines()))
    texts.append(NEAR_MISSES)
    for text in texts:
        assert [match.id for match in scan_text(text, _mine()) if match.id in CAUSES] == []


@pytest.mark.parametrize(
    ("line", "cause"),
    [
        (
            "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised: RuntimeError: Failed to find C compiler. Please specify via CC environment variable.",
            "triton_no_c_compiler",
        ),
        (
            "torch._inductor.exc.InductorError: RuntimeError: Unexpected optimization option triton.enable_persistent_tma_matmul",
            "torch_inductor_option_mismatch",
        ),
        (
            "UserWarning: The installed version of bitsandbytes was compiled without GPU support. 8-bit optimizers, 8-bit multiplication, and GPU quantization are unavailable.",
            "bnb_no_gpu_support",
        ),
        (
            "CUDA SETUP: Required library version not found: libbitsandbytes_cuda121.so. Maybe you need to compile it from source?",
            "bnb_cuda_setup_failed",
        ),
        (
            "NotImplementedError: Unsloth cannot find any torch accelerator? You need a GPU.",
            "unsloth_no_accelerator",
        ),
        (
            "The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90.",
            "cuda_arch_unsupported",
        ),
        ("RuntimeError: CUDA error: out of memory", "cuda_oom"),
    ],
)
def test_older_specific_causes_keep_their_lines(line: str, cause: str) -> None:
    assert [match.id for match in scan_text(_log(line))] == [cause]
