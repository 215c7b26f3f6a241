"""Writes the bundled demo data next to this file; the output is committed, this is its recipe.

- demo.jsonl: ~300 short chat examples (fine-tuning, GPUs, general knowledge, small
  exact tasks) for the tiny demo profile, in the `messages` format.
- grpo-toy.jsonl: 100 arithmetic prompts with a numeric `answer`, for the GRPO toy.
- smoke-3.jsonl: 3 examples, for the LoRA smoke test.

Deterministic (no randomness): running it again gives the same bytes.
Run: python profiles/data/generate.py
"""

# ruff: noqa: E501  (a table of example texts reads best one example per line)
from __future__ import annotations

import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent

FACTS: list[tuple[str, str]] = [
    (
        "What is fine-tuning?",
        "Continuing to train a pretrained model on your own examples so it learns a task or a style.",
    ),
    (
        "What does LoRA stand for?",
        "Low-Rank Adaptation: small trainable matrices added beside frozen weights.",
    ),
    (
        "Why does LoRA save memory?",
        "Only the small adapter matrices get gradients and optimizer state; the base weights stay frozen.",
    ),
    (
        "What is QLoRA?",
        "LoRA on top of a base model stored in 4-bit NF4, so a larger model fits on a smaller GPU.",
    ),
    (
        "What does the LoRA rank r control?",
        "The width of the adapter: a higher rank trains more parameters and uses more memory.",
    ),
    (
        "What is lora_alpha?",
        "A scale for the adapter's output; the update is multiplied by alpha divided by r.",
    ),
    (
        "What is gradient accumulation?",
        "Summing gradients over several small batches before one optimizer step, to mimic a bigger batch.",
    ),
    (
        "What is the effective batch size?",
        "Batch size times gradient accumulation steps times the number of GPUs.",
    ),
    (
        "What does gradient checkpointing do?",
        "It drops most activations in the forward pass and recomputes them in the backward pass, trading time for memory.",
    ),
    (
        "Why does a bigger batch use more VRAM?",
        "Activations grow with the number of tokens in flight: batch size times sequence length.",
    ),
    (
        "Why does a longer max_seq_length use more VRAM?",
        "Every layer stores activations per token, so memory grows with the sequence length.",
    ),
    ("What is an epoch?", "One full pass over the training data."),
    ("What is a learning rate?", "The step size of each optimizer update."),
    ("What is a typical LoRA learning rate?", "Around 1e-4 to 2e-4 is a common starting point."),
    (
        "What is AdamW?",
        "Adam with decoupled weight decay; it keeps two moving averages per trained parameter.",
    ),
    (
        "Why use an 8-bit optimizer?",
        "It stores Adam's two moment estimates in 8 bits instead of 32, cutting optimizer memory about four times.",
    ),
    (
        "What is a paged optimizer?",
        "An optimizer whose state can move to CPU memory when the GPU runs short, instead of crashing.",
    ),
    (
        "What is bf16?",
        "bfloat16: a 16-bit float with the exponent range of fp32, safe for training on recent GPUs.",
    ),
    (
        "What is fp16?",
        "A 16-bit float with a small range; training in it needs loss scaling to avoid overflow.",
    ),
    ("Which GPUs support bf16?", "NVIDIA Ampere (RTX 30xx, A100) and newer."),
    (
        "What is VRAM?",
        "The memory on the graphics card; the model, activations and optimizer state must fit in it.",
    ),
    (
        "What does CUDA out of memory mean?",
        "The GPU ran out of VRAM; lower the batch size or sequence length, or use 4-bit and checkpointing.",
    ),
    (
        "What uses VRAM during training?",
        "Weights, gradients, optimizer state, activations, the logits and the CUDA context.",
    ),
    (
        "What is the CUDA context?",
        "Memory the driver and libraries take on the GPU before any tensor, often a few hundred MiB.",
    ),
    (
        "What does nvidia-smi show?",
        "The GPUs, their memory use, utilisation, temperature, power and the processes using them.",
    ),
    (
        "Why can nvidia-smi show more memory than PyTorch reports?",
        "PyTorch's allocator caches freed blocks and the CUDA context is not counted by PyTorch.",
    ),
    (
        "What is WSL2?",
        "Windows Subsystem for Linux 2: a real Linux kernel in a lightweight VM on Windows, with GPU passthrough.",
    ),
    (
        "Why does Triton need a C compiler?",
        "It compiles GPU kernels on the fly and builds a small launcher with the system C compiler.",
    ),
    ("How do I install a C compiler on Ubuntu?", "sudo apt install build-essential"),
    ("What is a tokenizer?", "The component that turns text into token ids and back."),
    (
        "What is a chat template?",
        "A rule for turning a list of role/content messages into the exact text a chat model was trained on.",
    ),
    (
        "What is SFT?",
        "Supervised fine-tuning: training on example prompts with the answers you want.",
    ),
    (
        "What is GRPO?",
        "Group Relative Policy Optimization: RL that samples several answers per prompt and rewards the better ones relative to the group.",
    ),
    (
        "Why does GRPO sample several completions per prompt?",
        "The rewards of the group give a baseline, so no separate value model is needed.",
    ),
    (
        "What is a reward function?",
        "Code that scores a completion, for example 1 if the final answer is correct and 0 otherwise.",
    ),
    (
        "What is overfitting?",
        "When a model memorises the training data and does worse on new examples.",
    ),
    ("How can I spot overfitting?", "Training loss keeps falling while evaluation loss rises."),
    (
        "What is an adapter?",
        "A small set of trained weights that is loaded on top of a base model.",
    ),
    (
        "Can I merge a LoRA adapter into the base model?",
        "Yes: the update is added into the weights, giving a normal model with no adapter.",
    ),
    ("What is a checkpoint?", "A saved copy of the training state or the weights at some step."),
    (
        "What is warmup?",
        "A short period at the start where the learning rate rises from near zero.",
    ),
    (
        "What is packing?",
        "Concatenating short examples into full-length sequences so no tokens are wasted on padding.",
    ),
    ("What is padding?", "Filler tokens that make sequences in a batch the same length."),
    ("What is a loss curve?", "The training loss plotted over steps; it should trend down."),
    (
        "My loss is NaN. What should I check?",
        "The learning rate, fp16 overflow, and bad examples such as empty texts.",
    ),
    (
        "What is flash attention?",
        "An attention kernel that never builds the full attention matrix, saving memory and time.",
    ),
    (
        "What is SDPA?",
        "PyTorch's scaled_dot_product_attention, which picks a fast attention kernel automatically.",
    ),
    (
        "Why is NCCL missing on Windows?",
        "NCCL is Linux-only; multi-GPU training on Windows uses the Gloo backend or WSL2.",
    ),
    (
        "What does torch.cuda.is_available() tell me?",
        "Whether PyTorch can see a CUDA GPU with a working driver.",
    ),
    ("What is a virtual environment?", "An isolated Python installation with its own packages."),
    (
        "Why pin package versions?",
        "So that a working combination of torch, transformers and friends stays working.",
    ),
    (
        "What is Hugging Face Hub?",
        "A site hosting models and datasets that libraries download by id.",
    ),
    (
        "What is a model id?",
        "A name such as Qwen/Qwen2.5-0.5B-Instruct that the Hub resolves to files.",
    ),
    ("What is safetensors?", "A safe, fast file format for storing tensors."),
    (
        "What does quantization do?",
        "It stores weights in fewer bits, such as 8 or 4, to save memory.",
    ),
    (
        "What is NF4?",
        "NormalFloat4: a 4-bit data type designed for normally distributed weights, used by QLoRA.",
    ),
    (
        "Does 4-bit quantization make training faster?",
        "Not usually; it saves memory, and dequantizing adds some compute.",
    ),
    (
        "What is the lm_head?",
        "The final layer that maps hidden states to scores over the vocabulary.",
    ),
    (
        "Why are logits large for big vocabularies?",
        "There is one score per token per position: batch times sequence times vocabulary.",
    ),
    ("What is a GPU kernel?", "A function that runs in parallel on the GPU."),
    (
        "What is tokens per second?",
        "How many tokens the training processes each second, a measure of throughput.",
    ),
    ("What is the capital of France?", "Paris."),
    ("How many continents are there?", "Seven."),
    ("What is the boiling point of water at sea level?", "100 degrees Celsius."),
    ("What gas do plants take in?", "Carbon dioxide."),
    ("Who wrote Hamlet?", "William Shakespeare."),
    ("What is the largest planet in the solar system?", "Jupiter."),
    ("How many sides does a hexagon have?", "Six."),
    ("What is the chemical symbol for gold?", "Au."),
    ("What is the speed of light?", "About 300,000 kilometres per second."),
    (
        "What is photosynthesis?",
        "How plants use light to turn carbon dioxide and water into sugar and oxygen.",
    ),
    ("What is a prime number?", "A whole number above 1 divisible only by 1 and itself."),
    ("Name the three primary colours of light.", "Red, green and blue."),
    ("What is the freezing point of water in Fahrenheit?", "32 degrees Fahrenheit."),
    (
        "What does a CPU do?",
        "It runs the instructions of programs, one or a few streams at a time per core.",
    ),
    (
        "Why are GPUs good for neural networks?",
        "They run thousands of multiply-adds in parallel, which is what matrix products need.",
    ),
    ("What is RAM?", "The computer's working memory; it is emptied when the power goes off."),
    ("What is a byte?", "Eight bits."),
    ("What is a gibibyte?", "2 to the power 30 bytes, 1,073,741,824 bytes."),
    ("What does SSH do?", "It opens an encrypted shell on a remote machine."),
    ("What is tmux for?", "Keeping terminal sessions alive on a server after you disconnect."),
    (
        "Give a tip for training on a 4 GB GPU.",
        "Use a 4-bit model, batch size 1 with gradient accumulation, and gradient checkpointing.",
    ),
    (
        "Give a tip for a run that ends after one minute.",
        "Check the log and which Python interpreter ran it; a wrong environment fails fast.",
    ),
    (
        "What should I do before a long training run?",
        "A short smoke test with a few steps, to catch setup errors early.",
    ),
    (
        "Why keep a validation split?",
        "To measure how the model does on examples it did not train on.",
    ),
    ("What is a seed?", "A number that makes random choices repeatable."),
    ("Say hello.", "Hello!"),
    ("Translate 'thank you' into Spanish.", "Gracias."),
    ("Translate 'good morning' into French.", "Bonjour."),
    ("Give a synonym of 'fast'.", "Quick."),
]

COUNTRIES = [
    ("Japan", "Tokyo"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Germany", "Berlin"),
    ("Canada", "Ottawa"),
    ("Australia", "Canberra"),
    ("Brazil", "Brasília"),
    ("Egypt", "Cairo"),
    ("Kenya", "Nairobi"),
    ("India", "New Delhi"),
    ("China", "Beijing"),
    ("Mexico", "Mexico City"),
    ("Norway", "Oslo"),
    ("Sweden", "Stockholm"),
    ("Poland", "Warsaw"),
    ("Portugal", "Lisbon"),
    ("Greece", "Athens"),
    ("Turkey", "Ankara"),
    ("Argentina", "Buenos Aires"),
    ("Chile", "Santiago"),
    ("Peru", "Lima"),
    ("Vietnam", "Hanoi"),
    ("Thailand", "Bangkok"),
    ("Ireland", "Dublin"),
    ("Austria", "Vienna"),
    ("Finland", "Helsinki"),
    ("Nigeria", "Abuja"),
    ("Morocco", "Rabat"),
]

WORDS = [
    "adapter",
    "gradient",
    "tensor",
    "kernel",
    "token",
    "python",
    "memory",
    "cockpit",
    "epoch",
    "layer",
    "matrix",
    "vector",
    "signal",
    "window",
    "garden",
    "planet",
    "silver",
    "rocket",
    "bridge",
    "candle",
    "forest",
    "harbor",
    "island",
    "jungle",
    "lantern",
    "meadow",
    "orchard",
    "pillow",
    "quartz",
    "ribbon",
]

OPPOSITES = [
    ("hot", "cold"),
    ("up", "down"),
    ("early", "late"),
    ("full", "empty"),
    ("light", "dark"),
    ("open", "closed"),
    ("fast", "slow"),
    ("strong", "weak"),
    ("wide", "narrow"),
    ("first", "last"),
    ("buy", "sell"),
    ("win", "lose"),
    ("inside", "outside"),
    ("above", "below"),
    ("old", "new"),
]

GRPO_SYSTEM = (
    "Solve the arithmetic problem. Think briefly, then give only the final number "
    "inside <answer></answer>, for example <answer>42</answer>."
)


def _chat(question: str, answer: str) -> dict:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def _gib(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _exact_tasks() -> list[tuple[str, str]]:
    """Small tasks whose answers are computed, so they are right by construction."""
    pairs: list[tuple[str, str]] = []
    for billions in (0.5, 1, 1.5, 3, 7, 8, 13, 14):
        for dtype, size in (("fp32", 4), ("bf16", 2), ("8-bit", 1), ("4-bit", 0.5)):
            gib = billions * 1e9 * size / 2**30
            pairs.append(
                (
                    f"How much memory do the weights of a {billions}B-parameter model take in {dtype}?",
                    f"About {_gib(gib)} GiB ({billions}e9 parameters × {size} bytes).",
                )
            )
    for batch in (1, 2, 4, 8, 16):
        for accum in (1, 4, 8):
            pairs.append(
                (
                    f"Batch size {batch} with gradient accumulation {accum}: what is the effective batch size?",
                    f"{batch * accum}.",
                )
            )
    for examples, effective in ((100, 16), (500, 8), (1000, 32), (16069, 4), (3, 1), (250, 12)):
        steps = math.ceil(examples / effective)
        pairs.append(
            (
                f"{examples} examples and an effective batch of {effective}: how many steps is one epoch?",
                f"{steps} steps.",
            )
        )
    for rank in (4, 8, 16, 32, 64):
        for d_in, d_out in ((2048, 2048), (3072, 1024), (4096, 14336)):
            pairs.append(
                (
                    f"How many parameters does a rank-{rank} LoRA adapter add to a {d_in}×{d_out} linear layer?",
                    f"{rank * (d_in + d_out):,} (r × (in + out) = {rank} × {d_in + d_out}).",
                )
            )
    for gib in (1, 2, 4, 6, 8, 12, 16, 24):
        pairs.append((f"How many MiB are in {gib} GiB?", f"{gib * 1024} MiB."))
    return pairs


def _word_tasks() -> list[tuple[str, str]]:
    pairs = [(f"What is the capital of {country}?", f"{city}.") for country, city in COUNTRIES]
    for i, word in enumerate(WORDS):
        if i % 3 == 0:
            pairs.append((f"Reverse the word '{word}'.", word[::-1]))
        elif i % 3 == 1:
            pairs.append((f"Write '{word}' in capital letters.", word.upper()))
        else:
            pairs.append((f"How many letters are in '{word}'?", f"{len(word)}."))
    pairs += [(f"What is the opposite of '{a}'?", f"{b.capitalize()}.") for a, b in OPPOSITES]
    for i in range(12):
        numbers = [(i * 7 + k * 13) % 50 for k in range(5)]
        pairs.append(
            (
                f"Sort these numbers from smallest to largest: {', '.join(map(str, numbers))}.",
                ", ".join(map(str, sorted(numbers))) + ".",
            )
        )
    return pairs


def demo_examples() -> list[dict]:
    return [_chat(q, a) for q, a in FACTS + _exact_tasks() + _word_tasks()]


def grpo_examples() -> list[dict]:
    rows = []
    for i in range(100):
        a, b = 3 + (i * 37) % 90, 2 + (i * 53) % 60
        op = "+-×"[i % 3]
        if op == "-" and a < b:
            a, b = b, a
        answer = {"+": a + b, "-": a - b, "×": a * b}[op]
        rows.append(
            {
                "prompt": [
                    {"role": "system", "content": GRPO_SYSTEM},
                    {"role": "user", "content": f"What is {a} {op} {b}?"},
                ],
                "answer": str(answer),
            }
        )
    return rows


def smoke_examples() -> list[dict]:
    return [
        _chat(
            "What is a smoke test?",
            "A tiny run that proves the whole pipeline works before a long one.",
        ),
        _chat(
            "What does LoRA train?",
            "Small low-rank adapter matrices beside the frozen base weights.",
        ),
        _chat("What is 2 + 2?", "4."),
    ]


def _write(name: str, rows: list[dict]) -> None:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    _write("demo.jsonl", demo_examples())
    _write("grpo-toy.jsonl", grpo_examples())
    _write("smoke-3.jsonl", smoke_examples())
