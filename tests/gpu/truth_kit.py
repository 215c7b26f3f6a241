"""The GPU truth kit: measured peaks of real-sized models beside the estimate, as JSONL.

    python -m tests.gpu.truth_kit [--out tests/data/gpu_truth.jsonl] [--budget-s 540]

Run from the repository root on a machine with one CUDA GPU and torch, transformers and
peft (trl and bitsandbytes are used when present; Unsloth when it imports). No download:
each model is built from the catalog's config.json numbers (`cockpit/vram/catalog.toml`)
with random weights at its real size. Each case of the grid (LoRA / QLoRA / full, HF and
Unsloth, sequence 512-4096, batch 1-4, GRPO with generation) runs in a fresh process (a
clean allocator, and an OOM ends only that case): 3 optimizer steps, then torch's peak
allocated and reserved, appended with the estimate as one `cockpit.vram.measurements`
record (source "truth-kit"). Cases that would pass the time budget are left out, said.

The SFT step is the one TRL's SFTTrainer runs: bf16 autocast, the model's own loss
(transformers ForCausalLMLoss), torch AdamW, gradient checkpointing (non-reentrant), LoRA
adapters in fp32 (PEFT's default). GRPO runs TRL's GRPOTrainer itself (generation included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "data" / "gpu_truth.jsonl"
STEPS = 3
CASE_TIMEOUT_S = 240


@dataclass(frozen=True)
class Case:
    """One measured configuration."""

    model: str
    """A catalog id."""
    method: str
    """"lora", "qlora" or "full"."""
    seq: int
    batch: int
    backend: str = "peft"
    engine: str = "sft"
    seconds: float = 30.0
    """Rough wall time on an H100 (model build + 3 steps), for the budget."""

    @property
    def name(self) -> str:
        model = self.model.split("/")[-1]
        return f"{self.engine}-{self.backend}-{self.method}-{model}-s{self.seq}-b{self.batch}"


_SFT_GRID = (
    Case("Qwen/Qwen2.5-0.5B", "lora", 512, 1, seconds=15),
    Case("Qwen/Qwen2.5-0.5B", "lora", 2048, 4, seconds=20),
    Case("Qwen/Qwen2.5-0.5B", "full", 1024, 2, seconds=20),
    Case("meta-llama/Llama-3.2-1B", "lora", 4096, 1, seconds=25),
    Case("meta-llama/Llama-3.2-1B", "qlora", 2048, 2, seconds=40),
    Case("meta-llama/Llama-3.2-3B", "lora", 1024, 2, seconds=35),
    Case("meta-llama/Llama-3.2-3B", "qlora", 512, 4, seconds=60),
    Case("meta-llama/Llama-3.2-3B", "qlora", 4096, 1, seconds=60),
)
_UNSLOTH_GRID = (
    Case("meta-llama/Llama-3.2-1B", "lora", 2048, 2, backend="unsloth", seconds=60),
    Case("meta-llama/Llama-3.2-3B", "qlora", 2048, 1, backend="unsloth", seconds=80),
)
_GRPO_GRID = (
    Case("Qwen/Qwen2.5-0.5B", "lora", 384, 4, engine="grpo", seconds=90),
    Case("Qwen/Qwen2.5-0.5B", "full", 384, 4, engine="grpo", seconds=90),
)
GRPO_PROMPT, GRPO_COMPLETION, GRPO_GENERATIONS = 128, 256, 4


def available() -> set[str]:
    """The optional packages this interpreter has: trl, bitsandbytes, unsloth."""
    return {name for name in ("trl", "bitsandbytes", "unsloth") if find_spec(name) is not None}


def grid(have: set[str], budget_s: float = 540.0) -> tuple[list[Case], list[str]]:
    """(the cases to run, why others are left out), within `budget_s` seconds."""
    cases, skipped = [], []
    wanted = list(_SFT_GRID) + list(_UNSLOTH_GRID) + list(_GRPO_GRID)
    spent = 0.0
    for case in wanted:
        missing = _missing(case, have)
        if missing:
            skipped.append(f"{case.name}: {missing} not installed")
        elif spent + case.seconds > budget_s:
            skipped.append(f"{case.name}: over the {budget_s:g} s budget")
        else:
            cases.append(case)
            spent += case.seconds
    return cases, skipped


def _missing(case: Case, have: set[str]) -> str | None:
    needs = {"bitsandbytes"} if case.method == "qlora" else set()
    needs |= {"unsloth"} if case.backend == "unsloth" else set()
    needs |= {"trl"} if case.engine == "grpo" else set()
    absent = sorted(needs - have)
    return ", ".join(absent) or None


def case_profile(case: Case) -> Any:
    """The cockpit profile this case measures (what the estimate is asked about)."""
    from engines.profile_schema import (
        GrpoSection,
        LoraSection,
        ModelSection,
        Profile,
        TrainSection,
    )

    quant = "4bit" if case.method == "qlora" else "none"
    grpo = None
    if case.engine == "grpo":
        grpo = GrpoSection(
            num_generations=GRPO_GENERATIONS,
            max_prompt_length=GRPO_PROMPT,
            max_completion_length=GRPO_COMPLETION,
        )
    return Profile(
        name=f"truth-kit {case.name}",
        engine=case.engine,  # type: ignore[arg-type]
        model=ModelSection(
            case.model,
            quantization=quant,  # type: ignore[arg-type]
            backend=case.backend,  # type: ignore[arg-type]
            dtype="bf16",
            max_seq_length=case.seq,
        ),
        lora=None if case.method == "full" else LoraSection(r=16, alpha=16),
        train=TrainSection(batch_size=case.batch, grad_accum=1, optimizer="adamw"),
        grpo=grpo,
    )


def record_for(case: Case, measured: dict[str, Any], gpu_gib: float) -> dict[str, Any]:
    """The measurements record of one case: the estimate for this card beside the peaks."""
    from cockpit.vram.estimate import estimate
    from cockpit.vram.measurements import measurement_record

    profile = case_profile(case)
    result = estimate(profile, gpu_gib, suggest=False)
    record = measurement_record(profile, result, measured, source="truth-kit")
    return record | {"case": asdict(case)}


def append_records(records: list[dict[str, Any]], out: Path) -> None:
    from cockpit.vram.measurements import append_measurement

    for record in records:
        append_measurement(record, out)


# -- on the GPU: one case per process ---------------------------------------------------


def _config(case: Case) -> Any:
    from transformers import AutoConfig

    from cockpit.vram.catalog import lookup

    resolved = lookup(case.model)
    if resolved is None:
        raise SystemExit(f"{case.model} is not in the catalog")
    raw = resolved.spec.hf_config()
    return AutoConfig.for_model(raw.pop("model_type"), **raw)


def _model(case: Case, folder: Path) -> Any:
    """The random-initialised model, on the GPU (QLoRA: saved, then loaded in 4 bit)."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    config = _config(case)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    if case.method != "qlora" and case.backend != "unsloth":
        return model
    model.save_pretrained(folder)
    del model
    torch.cuda.empty_cache()
    if case.backend == "unsloth":
        return folder
    quant = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )
    return AutoModelForCausalLM.from_pretrained(
        folder, quantization_config=quant, dtype=torch.bfloat16, device_map={"": 0}
    )


def _with_lora(case: Case, model: Any) -> Any:
    if case.method == "full":
        model.gradient_checkpointing_enable({"use_reentrant": False})
        return model
    from peft import LoraConfig, get_peft_model

    model.gradient_checkpointing_enable({"use_reentrant": False})
    model.enable_input_require_grads()
    lora = LoraConfig(r=16, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def _unsloth_model(case: Case, folder: Path) -> Any:
    from unsloth import FastLanguageModel

    model, _ = FastLanguageModel.from_pretrained(
        str(folder), max_seq_length=case.seq, load_in_4bit=case.method == "qlora"
    )
    return FastLanguageModel.get_peft_model(
        model, r=16, lora_alpha=16, use_gradient_checkpointing="unsloth"
    )


def _sft_steps(case: Case, folder: Path) -> None:
    import torch

    built = _model(case, folder)
    model = _unsloth_model(case, built) if case.backend == "unsloth" else _with_lora(case, built)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    vocab = model.config.vocab_size
    torch.cuda.reset_peak_memory_stats()
    for _ in range(STEPS):
        ids = torch.randint(0, vocab, (case.batch, case.seq), device="cuda")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)


def _grpo_steps(case: Case, folder: Path) -> None:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import PreTrainedTokenizerFast
    from trl import GRPOConfig, GRPOTrainer

    model = _model(case, folder)
    tokenizer = _tokenizer(model.config.vocab_size, PreTrainedTokenizerFast)
    words = " ".join(f"w{i}" for i in range(GRPO_PROMPT - 2))
    rows = Dataset.from_dict({"prompt": [words] * 64})
    config = GRPOConfig(
        output_dir=str(folder / "out"),
        per_device_train_batch_size=case.batch,
        gradient_accumulation_steps=1,
        num_generations=GRPO_GENERATIONS,
        max_completion_length=GRPO_COMPLETION,
        max_steps=STEPS,
        bf16=True,
        gradient_checkpointing=True,
        save_strategy="no",
        report_to="none",
        logging_steps=1,
    )
    lora = None
    if case.method != "full":
        lora = LoraConfig(r=16, lora_alpha=16, target_modules="all-linear")
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=lambda completions, **kw: [float(len(c)) for c in completions],
        args=config,
        train_dataset=rows,
        processing_class=tokenizer,
        peft_config=lora,
    )
    torch.cuda.reset_peak_memory_stats()
    trainer.train()


def _tokenizer(vocab: int, cls: Any) -> Any:
    """A word-level tokenizer over `vocab` made-up words (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = {f"w{i}": i for i in range(vocab - 2)} | {"<unk>": vocab - 2, "<eos>": vocab - 1}
    raw = Tokenizer(models.WordLevel(words, unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return cls(tokenizer_object=raw, eos_token="<eos>", pad_token="<eos>", unk_token="<unk>")


def run_case(case: Case) -> dict[str, Any]:
    """Build and train one case here; its peaks (or its out-of-memory)."""
    import torch

    started = time.monotonic()
    error = None
    with tempfile.TemporaryDirectory(prefix="truth-kit-") as folder:
        try:
            (_grpo_steps if case.engine == "grpo" else _sft_steps)(case, Path(folder))
        except torch.cuda.OutOfMemoryError as exc:
            error = f"out of memory: {str(exc).splitlines()[0]}"
    from engines.probe import versions

    return {
        "allocated_bytes": int(torch.cuda.max_memory_allocated()),
        "reserved_bytes": int(torch.cuda.max_memory_reserved()),
        "gpu_name": torch.cuda.get_device_name(),
        "gpu_total_bytes": int(torch.cuda.get_device_properties(0).total_memory),
        "steps": STEPS,
        "versions": versions(),
        "seconds": round(time.monotonic() - started, 1),
        **({"error": error} if error else {}),
    }


def _run_in_child(case: Case) -> dict[str, Any]:
    argv = [sys.executable, "-m", "tests.gpu.truth_kit", "--case", json.dumps(asdict(case))]
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=CASE_TIMEOUT_S, cwd=REPO, env=env
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CASE_TIMEOUT_S} s"}
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-800:]}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gpu.truth_kit")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--budget-s", type=float, default=540.0)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:  # the child: one case, its report on the last line
        print(json.dumps(run_case(Case(**json.loads(args.case)))), flush=True)
        return 0
    import torch

    if not torch.cuda.is_available():
        print("truth kit: no CUDA GPU here; it measures real steps on one", file=sys.stderr)
        return 2
    gpu_gib = torch.cuda.get_device_properties(0).total_memory / 1024**3
    cases, skipped = grid(available(), args.budget_s)
    for line in skipped:
        print(f"left out: {line}", flush=True)
    for case in cases:
        measured = _run_in_child(case)
        if "allocated_bytes" not in measured or "error" in measured:
            print(f"{case.name}: {measured.get('error')}", flush=True)
            continue
        record = record_for(case, measured, gpu_gib)
        append_records([record], args.out)
        print(
            f"{case.name}: measured {record['measured_allocated_gib']:.2f} GiB allocated, "
            f"estimated {record['estimated_allocated_gib']:.2f} GiB",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
