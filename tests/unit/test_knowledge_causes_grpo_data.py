"""GRPO, vLLM, TRL, data and Hub causes: each is named from its libraries' real wordings.

Every excerpt below is the message as a library prints it (current and older releases:
TRL, transformers, datasets, huggingface_hub, PEFT, vLLM, Unsloth, LLaMA-Factory, and
cockpit's own engines), mostly as users pasted it into issue threads. Each must give
exactly its cause, at its line, and `cockpit explain` must show that cause's fix. Harmless
lines that share their words (vLLM start-up, GRPO metrics, TRL warnings) must give nothing.
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
    "grpo_num_generations_batch_mismatch": [
        "ValueError: The global train batch size (7 x 1) must be evenly divisible by the number of generations per prompt (8). Given the current train batch size, the valid values for the number of generations are: [7].",
        (
            '[rank1]:   File "/opt/conda/lib/python3.10/site-packages/trl/trainer/grpo_trainer.py", line 321, in __init__\n'
            "[rank1]:     raise ValueError(\n"
            "[rank1]: ValueError: The global train batch size (3 x 1) must be evenly divisible by the number of generations per prompt (8).",
            2,
        ),
        "ValueError: generation_batch_size (6) must be divisible by num_generations (4).",
        "ValueError: The global eval batch size (1 * 1) must be divisible by the number of generations used for evaluation (8).",
        "ValueError: GRPO requires at least 2 generations per prompt to calculate the advantages. You provided 1, which is less than the minimum required.",
    ],
    "grpo_reward_missing_dataset_column": [
        "TypeError: accuracy_reward() missing 1 required positional argument: 'solution'",
        "[rank5]: TypeError: CosineReward.__call__() missing 1 required positional argument: 'solution'",
        "[rank2]: TypeError: len_reward() missing 1 required positional argument: 'solutions'",
        "TypeError: correctness_reward_func() missing 1 required positional argument: 'answer'",
        "engines.rewards.RewardError: the exact_match reward needs an 'answer' column in the data",
        "engines.data.DataError: the exact_match reward needs an 'answer' column; data/prompts.jsonl has none",
    ],
    "grpo_reward_func_signature": [
        "TypeError: reward_len() got an unexpected keyword argument 'completion_ids'",
        "TypeError: format_reward() got an unexpected keyword argument 'prompts'",
        "ValueError: The reward function 'format_reward' returned 1 rewards, but 8 were expected (one per prompt-completion pair). Make sure the reward function returns exactly one reward per completion.",
        "ValueError: Number of reward weights (3) must match number of reward functions (2)",
        "TypeError: must be real number, not NoneType",
    ],
    "vllm_prompt_exceeds_max_model_len": [
        "ValueError: The decoder prompt (length 12324) is longer than the maximum model length of 8192. Make sure that `max_model_len` is no smaller than the number of text tokens plus multimodal tokens.",
        "WARNING 02-20 17:08:38 scheduler.py:949] Input prompt (100005 tokens) is too long and exceeds limit of 2048",
        "ValueError: The prompt (total length 25938) is too long to fit into the model (context length 4096). Make sure that `max_model_len` is no smaller than the number of text tokens plus multimodal tokens.",
        "openai.BadRequestError: Error code: 400 - {'object': 'error', 'message': \"This model's maximum context length is 16384 tokens. However, you requested 8192 output tokens and your prompt contains at least 8193 input tokens, for a total of at least 16385 tokens.\", 'type': 'BadRequestError'}",
    ],
    "vllm_gpu_memory_utilization": [
        "ValueError: Free memory on device cuda:0 (13.33/22.07 GiB) on startup is less than desired GPU memory utilization (0.9, 19.86 GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.",
        "ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.",
        "ERROR 06-02 05:17:18 [core.py:387] ValueError: To serve at least one request with the models's max seq len (40960), (10.00 GiB KV cache is needed, which is larger than the available KV cache memory (1.25 GiB). Based on the available memory,  Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
        "ValueError: The model's max seq len (32768) is larger than the maximum number of tokens that can be stored in KV cache (14336). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.",
        "AssertionError: Error in memory profiling. Initial free memory 20.1 GiB, current free memory 21.3 GiB. This happens when the GPU memory was not properly cleaned up before initializing the vLLM instance.",
    ],
    "grpo_vllm_server_unreachable": [
        "ConnectionError: The vLLM server can't be reached at 0.0.0.0:8000 after 240 seconds. Make sure the server is running by running `trl vllm-serve`.",
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='0.0.0.0', port=8000): Max retries exceeded with url: /generate/ (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3c>: Failed to establish a new connection: [Errno 111] Connection refused'))",
        "TimeoutError: Timed out after 600s waiting for vLLM server at http://10.0.0.5:8000. Make sure the vLLM server is running and reachable.",
        "RuntimeError: The vLLM server at http://127.0.0.1:8000 does not expose its development endpoints, which TRL uses to synchronize weights. Restart it with `VLLM_SERVER_DEV_MODE=1` in its environment.",
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='10.0.0.5', port=8000): Max retries exceeded with url: /init_communicator/ (Caused by NewConnectionError('Failed to establish a new connection: [Errno 113] No route to host'))",
    ],
    "trl_vllm_version_mismatch": [
        (
            '  File "/usr/local/lib/python3.12/dist-packages/trl/trainer/grpo_trainer.py", line 95, in <module>\n'
            "    from vllm.sampling_params import GuidedDecodingParams\n"
            "ImportError: cannot import name 'GuidedDecodingParams' from 'vllm.sampling_params' (/usr/local/lib/python3.12/dist-packages/vllm/sampling_params.py)",
            2,
        ),
        "ImportError: cannot import name 'get_open_port' from 'vllm.utils' (/usr/local/lib/python3.12/dist-packages/vllm/utils/__init__.py)",
        "ImportError: cannot import name 'StructuredOutputsParams' from 'vllm.sampling_params' (/opt/conda/lib/python3.11/site-packages/vllm/sampling_params.py)",
    ],
    "vllm_max_lora_rank": [
        "ValueError: LoRA rank 32 is greater than max_lora_rank 16.",
        "(APIServer pid=1) Exception: Call to add_lora method failed: LoRA rank 64 is greater than max_lora_rank 16.",
        "ValueError: max_lora_rank (128) must be one of (8, 16, 32, 64).",
        "ValueError: The adapter has rank 64, but the vLLM server was started with `--max-lora-rank 16`. Restart it with `--max-lora-rank 64`.",
    ],
    "sft_packing_collator_incompatible": [
        "ValueError: You passed a `DataCollatorForCompletionOnlyLM` to the SFTTrainer. This is not compatible with the `packing` argument.",
        "ValueError: Passing a custom data collator is not supported when using padding-free.",
        (
            '  File "/content/unsloth_compiled_cache/UnslothSFTTrainer.py", line 1003, in __init__\n'
            "    raise ValueError(\n"
            "[rank0]: ValueError: You passed a DataCollatorForCompletionOnlyLM to the SFTTrainer. This is not compatible with the packing argument.",
            2,
        ),
    ],
    "sft_packing_too_few_samples": [
        "ValueError: Error occurred while packing the dataset. Make sure that your dataset has enough samples to at least yield one packed sequence.",
        "RuntimeError: Cannot find sufficient samples, consider increasing dataset size.",
        "ValueError: num_samples should be a positive integer value, but got num_samples=0",
        "datasets.arrow_writer.SchemaInferenceError: Please pass `features` or at least one example when writing data",
    ],
    "sft_text_field_missing": [
        (
            "[rank0]:     element[dataset_text_field] if formatting_func is None else formatting_func(element),\n"
            "[rank0]:     ~~~~~~~^^^^^^^^^^^^^^^^^^^^\n"
            '[rank0]:   File "/home/u/.venv/lib/python3.11/site-packages/datasets/formatting/formatting.py", line 277, in __getitem__\n'
            "[rank0]: KeyError: 'text'",
            3,
        ),
        "ValueError: You passed `packing=False` to the SFTTrainer/SFTConfig, but you didn't pass a `dataset_text_field` or `formatting_func` argument.",
        "ValueError: You need to pass a `dataset_text_field` or `formatting_func` argument to the SFTTrainer if you want to use the `ConstantLengthDataset`.",
        "KeyError: \"The input examples must contain either 'messages' for conversational data or 'text' for standard data.\"",
        "ValueError: You need to specify either `text` or `text_target`.",
    ],
    "dataset_column_mapping_mismatch": [
        "ValueError: Column to remove ['train'] not in the dataset. Current columns in the dataset: ['prompt', 'completion']",
        "ValueError: Original column name instruction not in the dataset. Current columns in the dataset: ['question', 'answer']",
        "KeyError: \"Column answer not in the dataset. Current columns in the dataset: ['question', 'solution']\"",
        "RuntimeError: Cannot find valid samples, check `data/README.md` for the data format.",
        "engines.data.DataError: format 'chat' needs column(s) 'messages', but data/train.jsonl has columns ['question', 'answer']; accepted: 'messages' (chat), 'instruction' + 'output' (instruction, 'input' optional), 'prompt' + 'completion' (prompt-completion) or 'text' (text)",
    ],
    "chat_template_missing": [
        "ValueError: Cannot use chat template functions because tokenizer.chat_template is not set and no template argument was passed! For information about writing templates and setting the tokenizer.chat_template attribute, please see the documentation at https://huggingface.co/docs/transformers/main/en/chat_templating",
        "ValueError: Cannot use apply_chat_template() because tokenizer.chat_template is not set and no template argument was passed! For information about writing templates and setting the tokenizer.chat_template attribute, please see the documentation at https://huggingface.co/docs/transformers/main/en/chat_templating",
        "ValueError: Cannot use apply_chat_template because this processor does not have a chat template.",
        "openai.BadRequestError: Error code: 400 - {'object': 'error', 'message': 'As of transformers v4.44, default chat template is no longer allowed, so you must provide a chat template if the tokenizer does not define one.', 'type': 'BadRequestError'}",
    ],
    "fa2_right_padding_use_cache": [
        "ValueError: You are attempting to perform batched generation with padding_side='right' this may lead to unexpected behaviour for Flash Attention version of Qwen2. Make sure to  call `tokenizer.padding_side  = 'left'` before tokenizing the input.",
        "ValueError: You are attempting to perform batched generation with padding_side='right' this may lead to unexpected behaviour for Flash Attention version of Mistral. Make sure to  call `tokenizer.padding_side  = 'left'` before tokenizing the input.",
        (
            '  File "/root/open-r1/src/open_r1/trainer/grpo_trainer.py", line 366, in _get_per_token_logps\n'
            "    logits = model(input_ids, attention_mask=attention_mask).logits  # (B, L, V)\n"
            "[rank0]: ValueError: You are attempting to perform batched generation with padding_side='right' this may lead to unexpected behaviour for Flash Attention version of Qwen2_5_VL. Make sure to call `tokenizer.padding_side  = 'left'` before tokenizing the input.",
            2,
        ),
    ],
    # ---- beyond the list: Hub, model files, data files, resume, disk ----
    "hub_gated_repo": [
        "huggingface_hub.errors.GatedRepoError: 403 Client Error. (Request ID: Root=1-67a1-2b3c)",
        (
            "OSError: You are trying to access a gated repo.\n"
            "Make sure to have access to it at https://huggingface.co/meta-llama/Meta-Llama-3-8B.\n"
            "401 Client Error. (Request ID: Root=1-6620)\n"
            "Access to model meta-llama/Meta-Llama-3-8B is restricted. You must have access to it and be authenticated to access it. Please log in.",
            0,
        ),
        "OSError: meta-llama/Llama-2-7b-hf is a gated repository. Make sure to request access at https://huggingface.co/meta-llama/Llama-2-7b-hf and pass a token having permission to this repo either by logging in with `huggingface-cli login` or by passing `token=<your_token>`.",
        "Your request to access model meta-llama/Llama-3.3-70B-Instruct is awaiting a review from the repo authors.",
        "huggingface_hub.errors.GatedRepoError: 403 Client Error. Your request to access model meta-llama/Llama-2-7b-hf has been rejected by the repo's authors.",
        (
            "huggingface_hub.errors.HfHubHTTPError: 401 Client Error: Unauthorized for url: https://huggingface.co/api/whoami-v2\n"
            "Invalid credentials in Authorization header",
            1,
        ),
    ],
    "hub_repo_not_found": [
        "OSError: Qwen/Qwen2.5-0.5B-Instrukt is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'",
        (
            "huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error. (Request ID: Root=1-66)\n"
            "Repository Not Found for url: https://huggingface.co/api/models/unsloth/llama-3-8b-bnb-4bt.\n"
            "Please make sure you specified the correct `repo_id` and `repo_type`.\n"
            "If you are trying to access a private or gated repo, make sure you are authenticated.",
            0,
        ),
        "huggingface_hub.errors.HFValidationError: Repo id must be in the form 'repo_name' or 'namespace/repo_name': './models/llama/../../ckpt'. Use `repo_type` argument if needed.",
        "OSError: Incorrect path_or_model_id: '/data/models/Qwen2.5-7B'. Please provide either the path to a local folder or the repo_id of a model on the Hub.",
        "OSError: v2.0 is not a valid git identifier (branch name, tag name or commit id) that exists for this model name. Check the model page at 'https://huggingface.co/Qwen/Qwen2.5-0.5B' for available revisions.",
    ],
    "hub_offline_no_cache": [
        "OSError: We couldn't connect to 'https://huggingface.co' to load this file, couldn't find it in the cached files and it looks like Qwen/Qwen2.5-0.5B is not the path to a directory containing a file named config.json.",
        "huggingface_hub.errors.LocalEntryNotFoundError: Cannot find the requested files in the disk cache and outgoing traffic has been disabled. To enable hf.co look-ups and downloads online, set 'local_files_only' to False.",
        "huggingface_hub.errors.LocalEntryNotFoundError: Cannot find an appropriate cached snapshot folder for the specified revision on the local disk and outgoing traffic has been disabled. To enable repo look-ups and downloads online, pass 'local_files_only=False' as input.",
    ],
    "trust_remote_code_required": [
        "ValueError: The repository for THUDM/chatglm3-6b contains custom code which must be executed to correctly load the model. You can inspect the repository content at https://hf.co/THUDM/chatglm3-6b.",
        "ValueError: Loading /models/internlm2-7b requires you to execute the configuration file in that repo on your local machine. Make sure you have read the code there to avoid malicious use, then set the option `trust_remote_code=True` to remove this error.",
        "ValueError: Loading this model requires you to execute custom code contained in the model repository on your local machine. Please set the option `trust_remote_code=True` to permit loading of this model.",
    ],
    "model_arch_unknown": [
        "ValueError: The checkpoint you are trying to load has model type `qwen3` but Transformers does not recognize this architecture. This could be because of an issue with the checkpoint, or because your version of Transformers is out of date.",
        "ValueError: The checkpoint you are trying to load has model type `gemma3_text` but Transformers does not recognize this architecture.",
        "ValueError: Unrecognized configuration class <class 'transformers.models.qwen2_vl.configuration_qwen2_vl.Qwen2VLConfig'> for this kind of AutoModel: AutoModelForCausalLM.",
    ],
    "model_files_missing": [
        "OSError: outputs/checkpoint-500 does not appear to have a file named config.json. Checkout 'https://huggingface.co/outputs/checkpoint-500/tree/None' for available files.",
        "OSError: Error no file named pytorch_model.bin, model.safetensors, tf_model.h5, model.ckpt.index or flax_model.msgpack found in directory ./lora_out.",
        "ValueError: Unrecognized model in ./lora_adapter. Should have a `model_type` key in its config.json, or contain one of the following strings in its name: albert, bart, bert",
        "ValueError: Can't find 'adapter_config.json' at 'outputs/final'",
    ],
    "tokenizer_dependency_missing": [
        "ImportError: LlamaTokenizer requires the SentencePiece library but it was not found in your environment. Check out the instructions on the",
        "ImportError: LlamaConverter requires the protobuf library but it was not found in your environment. Check out the instructions on the",
        "ModuleNotFoundError: No module named 'sentencepiece'",
        "ValueError: Cannot instantiate this tokenizer from a slow version. If it's based on sentencepiece, make sure you have sentencepiece installed.",
        "ValueError: `tiktoken` is required to read a `tiktoken` file. Install it with `pip install tiktoken`.",
        "ValueError: Couldn't instantiate the backend tokenizer from one of: (1) a `tokenizers` library serialization file, (2) a slow tokenizer instance to convert or (3) an equivalent slow tokenizer class to instantiate and convert. You need to have sentencepiece installed to convert a slow tokenizer to a fast one.",
    ],
    "peft_target_modules_not_found": [
        "ValueError: Target modules {'q_proj', 'v_proj'} not found in the base model. Please check the target modules and try again.",
        "peft.tuners.tuners_utils.NoMatchingPeftModuleError: Target modules ['query_key_value'] not found in the base model. Please check the target modules and try again.",
        "ValueError: Target module LlamaRMSNorm() is not supported. Currently, only the following modules are supported: `torch.nn.Linear`, `torch.nn.Embedding`, `torch.nn.Conv2d`, `transformers.pytorch_utils.Conv1D`.",
        "ValueError: Please specify `target_modules` in `peft_config`",
    ],
    "resume_checkpoint_mismatch": [
        (
            "RuntimeError: Error(s) in loading state_dict for PeftModelForCausalLM:\n"
            "\tsize mismatch for base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight: copying a param with shape torch.Size([16, 2048]) from checkpoint, the shape in current model is torch.Size([8, 2048]).",
            0,
        ),
        "\tsize mismatch for model.embed_tokens.weight: copying a param with shape torch.Size([32002, 4096]) from checkpoint, the shape in current model is torch.Size([32000, 4096]).",
        "You may consider adding `ignore_mismatched_sizes=True` in the model `from_pretrained` method.",
    ],
    "resume_checkpoint_not_found": [
        "ValueError: No valid checkpoint found in output directory (outputs/qwen-sft)",
        "ValueError: Can't find a valid checkpoint at outputs/checkpoint-1000",
        "[rank0]: ValueError: No valid checkpoint found in output directory (/scratch/runs/grpo)",
    ],
    "checkpoint_file_corrupt": [
        "safetensors_rust.SafetensorError: Error while deserializing header: MetadataIncompleteBuffer",
        "safetensors_rust.SafetensorError: Error while deserializing header: HeaderTooLarge",
        "RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central directory",
        "safetensors_rust.SafetensorError: Error while deserializing header: incomplete metadata, file not fully covered",
    ],
    "disk_full": [
        "OSError: [Errno 28] No space left on device: 'outputs/checkpoint-500/optimizer.pt'",
        "RuntimeError: PytorchStreamWriter failed writing file data/12: file write failed",
        "RuntimeError: [enforce fail at inline_container.cc:595] . unexpected pos 2405440 vs 2405332",
        'safetensors_rust.SafetensorError: Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space left on device" })',
        "OSError: [Errno 122] Disk quota exceeded: '/home/u/.cache/huggingface/hub/models--Qwen--Qwen2.5-7B/blobs/abc.incomplete'",
    ],
    "dataset_columns_inconsistent": [
        "datasets.exceptions.DatasetGenerationCastError: An error occurred while generating the dataset",
        "All the data files must have the same columns, but at some point there are 1 new columns ({'system'})",
        "TypeError: Couldn't cast array of type string to null",
        "pyarrow.lib.ArrowInvalid: JSON parse error: Column(/answer) changed from number to string in row 12",
    ],
    "dataset_file_invalid": [
        "pyarrow.lib.ArrowInvalid: JSON parse error: Missing a closing quotation mark in string. in row 41",
        "json.decoder.JSONDecodeError: Extra data: line 2 column 1 (char 118)",
        "ERROR:datasets.packaged_modules.json.json:Failed to read file '/data/train.jsonl' with error <class 'pyarrow.lib.ArrowInvalid'>: JSON parse error: Invalid value. in row 0",
    ],
    "dataset_not_found": [
        "datasets.exceptions.DatasetNotFoundError: Dataset 'openai/gsm8kk' doesn't exist on the Hub or cannot be accessed.",
        "FileNotFoundError: Unable to find '/home/u/data/train.jsonl'",
        "FileNotFoundError: Couldn't find a dataset script at /home/u/my_data/my_data.py or any data file in the same directory.",
        "FileNotFoundError: Couldn't find any data file at /home/u/project/data/sft.",
        "engines.data.DataError: data file not found: data/train.jsonl",
    ],
    "eval_dataset_missing": [
        "ValueError: Trainer: evaluation requires an eval_dataset.",
        "ValueError: You have set `args.eval_strategy` to steps but you didn't pass an `eval_dataset` to `Trainer`. Either set `args.eval_strategy` to `no` or pass an `eval_dataset`.",
        "ValueError: --load_best_model_at_end requires the save and eval strategy to match, but found",
    ],
    "vllm_not_installed": [
        "ImportError: vLLM is not available and `use_vllm` is set to True. Please install vLLM with `pip install vllm` to use it.",
        "ImportError: vLLM is not installed. Please install it with `pip install trl[vllm]`.",
        "ModuleNotFoundError: No module named 'vllm'",
    ],
    "trl_completion_collator_removed": [
        "ImportError: cannot import name 'DataCollatorForCompletionOnlyLM' from 'trl' (/usr/local/lib/python3.11/dist-packages/trl/__init__.py)",
        "ImportError: cannot import name 'DataCollatorForCompletionOnlyLM' from 'trl.trainer' (/opt/conda/lib/python3.10/site-packages/trl/trainer/__init__.py)",
        "ImportError: cannot import name 'ConstantLengthDataset' from 'trl.trainer.utils' (/venv/main/lib/python3.12/site-packages/trl/trainer/utils.py)",
        (
            "RuntimeError: Failed to import trl.trainer because of the following error (look up to see its traceback):\n"
            "cannot import name 'DataCollatorForCompletionOnlyLM' from 'trl.trainer.utils'",
            1,
        ),
    ],
    "vllm_max_model_len_too_large": [
        "ValueError: User-specified max_model_len (32768) is greater than the derived max_model_len (max_position_embeddings=8192 or model_max_length=None in model's config.json). This may lead to incorrect model outputs or CUDA errors. To allow overriding this maximum, set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1",
        (
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for ModelConfig\n"
            "  Value error, User-specified max_model_len (40960) is greater than the derived max_model_len (max_position_embeddings=32768.0 or model_max_length=None in model's config.json).",
            1,
        ),
        "ERROR 05-01 10:00:00 [core.py:400] ValueError: User-specified max_model_len (131072) is greater than the derived max_model_len (max_position_embeddings=4096 or model_max_length=None in model's config.json).",
    ],
    "trl_vllm_version_unsupported": [
        "/usr/local/lib/python3.12/dist-packages/trl/import_utils.py:91: UserWarning: TRL currently only supports vLLM version `0.10.2`. You have version 0.12.0 installed. We recommend to install this version to avoid compatibility issues.",
        "UserWarning: TRL currently supports vLLM versions from 0.22.0 to 0.31.0. You have version 0.32.1 installed. We recommend installing a supported version to avoid compatibility issues.",
        "UserWarning: TRL currently supports vLLM versions: 0.10.2, 0.11.0, 0.11.1, 0.11.2, 0.12.0. You have version 0.13.0 installed. We recommend installing a supported version to avoid compatibility issues.",
    ],
    "grpo_reward_all_none": [
        "All reward functions returned None for the following kwargs: {'prompt': 'What is 2+2?', 'completion': 'four'}",
        "UserWarning: All reward functions returned None for the following kwargs:",
        "2025-06-19 10:00:00 - WARNING - trl.trainer.grpo_trainer - All reward functions returned None for the following kwargs:",
    ],
    "generation_right_padding": [
        "A decoder-only architecture is being used, but right-padding was detected! For correct generation results, please set `padding_side='left'` when initializing the tokenizer.",
        "WARNING:transformers.generation.utils:A decoder-only architecture is being used, but right-padding was detected! For correct generation results, please set `padding_side='left'` when initializing the tokenizer.",
        "[rank0]: A decoder-only architecture is being used, but right-padding was detected! For correct generation results, please set `padding_side='left'` when initializing the tokenizer.",
    ],
}

WARNINGS = {"trl_vllm_version_unsupported", "grpo_reward_all_none", "generation_right_padding"}

CASES = [
    (cause, *(excerpt if isinstance(excerpt, tuple) else (excerpt, 0)))
    for cause, excerpts in CAUSES.items()
    for excerpt in excerpts
]
IDS = [f"{case[0]}-{i}" for i, case in enumerate(CASES)]

# Lines from successful runs that share words with the causes above.
NEAR_MISSES = """\
INFO 03-01 12:00:00 [core.py:58] Initializing a V1 LLM engine (v0.10.2) with config: model='Qwen/Qwen2.5-0.5B-Instruct', max_seq_len=2048, gpu_memory_utilization=0.3, enable_lora=True, max_lora_rank=64, trust_remote_code=False
INFO 03-01 12:00:05 [kv_cache_utils.py:634] GPU KV cache size: 123,456 tokens
INFO 03-01 12:00:05 [kv_cache_utils.py:638] Maximum concurrency for 2,048 tokens per request: 60.28x
INFO 03-01 12:00:05 [gpu_worker.py:276] Available KV cache memory: 9.42 GiB
INFO 03-01 12:00:09 [core.py:193] init engine (profile, create kv cache, warmup model) took 21.40 seconds
Unsloth: vLLM loading unsloth/Qwen2.5-0.5B-Instruct with actual GPU utilization = 49.5%
Unsloth: Your GPU has CUDA compute capability 8.9 with VRAM = 23.6 GB.
Unsloth: Using conservativeness = 1.0. Chunked prefill tokens = 2048. Num Sequences = 288.
Unsloth: vLLM's KV Cache can use up to 9.27 GB. Also swap space = 6 GB.
2025-03-26 05:53:13 - INFO - trl.extras.vllm_client - Server is not up yet. Retrying in 2.0 seconds...
2025-03-26 05:53:15 - INFO - trl.extras.vllm_client - Server is up!
INFO:     127.0.0.1:56516 - "POST /generate/ HTTP/1.1" 200 OK
INFO:     127.0.0.1:56516 - "POST /init_communicator/ HTTP/1.1" 200 OK
You passed a tokenizer with `padding_side` not equal to `right` to the SFTTrainer. This might lead to some unexpected behaviour due to overflow issues when training a model in half-precision. You might consider adding `tokenizer.padding_side = 'right'` to your code.
No chat template is set for this tokenizer, falling back to a default class-level template. This is very error-prone, because models are often trained with templates different from the class default!
Token indices sequence length is longer than the specified maximum sequence length for this model (5127 > 4096). Running this sequence through the model will result in indexing errors
The dataset reached end and the iterator is reset to the start.
Generating train split: 7473 examples [00:00, 61234.56 examples/s]
Map (num_proc=4): 100%|██████████| 7473/7473 [00:01<00:00, 5012.34 examples/s]
Packing train dataset: 100%|██████████| 251/251 [00:00<00:00, 9876.54 examples/s]
Tokenizing train dataset: 100%|██████████| 251/251 [00:00<00:00, 2345.67 examples/s]
Fetching 4 files: 100%|██████████| 4/4 [00:12<00:00,  3.01s/it]
model.safetensors: 100%|██████████| 988M/988M [00:21<00:00, 46.2MB/s]
Resuming training from checkpoint outputs/checkpoint-500
Saving model checkpoint to outputs/checkpoint-1000
Checkpoint destination directory outputs/checkpoint-1000 already exists and is non-empty. Saving will proceed but saved results may be invalid.
trainable params: 4,399,104 || all params: 498,431,872 || trainable%: 0.8826
{'loss': 0.0, 'grad_norm': 0.31, 'learning_rate': 1e-06, 'num_tokens': 12345.0, 'completions/mean_length': 120.5, 'rewards/format_reward/mean': 0.5, 'rewards/accuracy_reward/mean': 0.25, 'reward': 1.25, 'reward_std': 0.4, 'frac_reward_zero_std': 0.25, 'kl': 0.0, 'epoch': 0.01}
Unsloth: We now expect `per_device_train_batch_size` to be a multiple of `num_generations`. We will change the batch size of 1 to the `num_generations` of 4
Setting `pad_token_id` to `eos_token_id`:151643 for open-end generation.
The following generation flags are not valid and may be ignored: ['temperature', 'top_p'].
Could not locate the custom_generate/generate.py inside Qwen/Qwen2.5-0.5B-Instruct.
Note: Environment variable`HF_TOKEN` is set and is the current active token independently from the token you've just configured.
Some weights of the model checkpoint at ./base were not used when initializing LlamaForCausalLM: ['lm_head.bias']
UserWarning: The `max_seq_length` argument is deprecated and will be removed; use `max_length` in SFTConfig instead.
Removed 12 out of 7473 samples from train_dataset because all labels were -100.
/home/u/.venv/lib/python3.11/site-packages/google/protobuf/runtime_version.py:98: UserWarning: Protobuf gencode version 5.27.2 is exactly one major version older than the runtime version 6.31.1 at sentencepiece_model.proto.
Disk usage of /home/u/.cache/huggingface: 42.1 GiB; 120.3 GiB free
"""


def _log(text: str) -> str:
    return f"Loading checkpoint shards: 100%|██████████| 2/2\n{text}\nstep 7 done\n"


def test_every_cause_is_in_the_catalog_with_three_wordings() -> None:
    catalog = {entry.id: entry for entry in entries()}
    for cause, excerpts in CAUSES.items():
        assert cause in catalog, cause
        assert len(set(map(str, excerpts))) >= 3, cause
        expected = "warning" if cause in WARNINGS else "error"
        assert catalog[cause].severity == expected, cause


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
    expected_exit = 0 if cause in WARNINGS else 1
    assert explain_main(str(log), as_json=False) == expected_exit
    out = capsys.readouterr().out
    entry = by_id(cause)
    assert entry is not None
    assert entry.title in out
    for fix_line in entry.fix.splitlines():
        assert fix_line.strip() in out


def _mine() -> tuple:
    return tuple(entry for entry in entries() if entry.id in CAUSES)


def test_these_causes_stay_quiet_on_clean_logs() -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted(LOGS.glob("clean_*.log"))]
    texts.append("\n".join(failed_run_lines()))
    texts.append(NEAR_MISSES)
    for text in texts:
        assert scan_text(text, _mine()) == []


def test_near_misses_give_no_finding_from_the_whole_catalog() -> None:
    assert scan_text(NEAR_MISSES) == []


def test_a_non_json_http_reply_is_not_blamed_on_the_data_file() -> None:
    line = "requests.exceptions.JSONDecodeError: Expecting value: line 1 column 1 (char 0)"
    assert scan_text(line, _mine()) == []


def test_shared_memory_exhaustion_stays_with_nccl_not_disk_full() -> None:
    line = "RuntimeError: unable to write to file </torch_123_456>: No space left on device (28) /dev/shm"
    assert [match.id for match in scan_text(line)] == ["nccl_shm_exhausted"]
