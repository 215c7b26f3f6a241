"""Published memory measurements the estimator is fitted on and tested against (test data).

Each reference keeps its source, the published words or numbers, the configuration as a
profile and the versions it ran on. It is estimated with exactly the stack the app picks
for those versions (`cockpit.vram.plan.stack_for`): TRL before 0.22 called PEFT's
prepare_model_for_kbit_training (fp32 embeddings); Unsloth before 2024.12 materialized
the logits, from 2024.12 used Apple's Cut Cross-Entropy, and since 2025.8 a chunked loss.

Kinds of measurement:
- "peak_reserved": torch.cuda.max_memory_reserved() of the run, in GiB;
- "max_context": the longest padded sequence that trains in a memory budget, so the
  estimate at that length should be the budget (compared with peak_reserved: the
  budgets are memory limits of the PyTorch allocator);
- "load": reserved memory after loading the 4-bit model and adding LoRA, before training;
- "ran_on": a configuration people trained successfully on a card; the estimate must not
  say "won't fit" there (no measured number).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cockpit.vram.constants import Fitted
from cockpit.vram.plan import Stack, stack_for
from engines.profile_schema import LoraSection, ModelSection, Profile, TrainSection

UNSLOTH_DOCS = "https://unsloth.ai/docs/basics/unsloth-benchmarks (also unsloth.ai/blog/llama3-3)"
UNSLOTH_NB = "https://github.com/unslothai/notebooks/blob/main/nb/"
HF_DEC_2024 = {"transformers": "4.47", "trl": "0.13"}
"""Unsloth's Llama 3.3 benchmark (Dec 2024) ran HF + TRL of that month."""
UNSLOTH_DEC_2024 = {"unsloth": "2024.12"}


@dataclass(frozen=True)
class Reference:
    """One published measurement and the configuration it was taken with."""

    id: str
    source: str
    published: str
    """The published words or numbers, as printed."""
    profile: Profile
    kind: str
    measured_gib: float | None
    versions: dict[str, str] = field(default_factory=dict)
    """The stack's versions it was measured on ({} : today's)."""
    card_gib: float | None = None
    """Memory of the card it ran on (for "ran_on")."""

    @property
    def stack(self) -> Stack:
        """The stack the app would pick for these versions."""
        return stack_for(self.versions)


def _qlora(
    model: str,
    seq: int,
    *,
    r: int,
    batch: int,
    ckpt: str,
    backend: str,
    optimizer: str = "adamw_8bit",
    dtype: str = "auto",
) -> Profile:
    return Profile(
        name=model.rsplit("/", 1)[-1],
        model=ModelSection(
            model,
            quantization="4bit",
            backend=backend,  # type: ignore[arg-type]
            dtype=dtype,
            max_seq_length=seq,
        ),  # type: ignore[arg-type]
        lora=LoraSection(r=r, alpha=r),
        train=TrainSection(
            batch_size=batch,
            grad_accum=4,
            gradient_checkpointing=ckpt,  # type: ignore[arg-type]
            optimizer=optimizer,
        ),  # type: ignore[arg-type]
    )


def _long_context(model: str, gib: float, tokens: int, backend: str) -> Reference:
    unsloth = backend == "unsloth"
    ckpt = "unsloth" if unsloth else "on"
    who = "Unsloth (+ Apple CCE)" if unsloth else "Hugging Face + FA2"
    return Reference(
        id=f"{model.rsplit('/', 1)[-1]} {who} max context @ {gib:g} GB",
        source=UNSLOTH_DOCS,
        published=f"{model} QLoRA 4-bit, all linear layers, rank 32, batch 1, sequences "
        f"padded: {who} max context {tokens:,} on {gib:g} GB",
        profile=_qlora(model, tokens, r=32, batch=1, ckpt=ckpt, backend=backend),
        kind="max_context",
        measured_gib=gib,
        versions=UNSLOTH_DEC_2024 if unsloth else HF_DEC_2024,
    )


def _unsloth_long_context() -> list[Reference]:
    llama8 = "unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit"
    llama70 = "unsloth/Llama-3.3-70B-Instruct-bnb-4bit"
    unsloth = [
        (8, 2972),
        (12, 21848),
        (16, 40724),
        (24, 78475),
        (40, 153977),
        (48, 191728),
        (80, 342733),
    ]
    hf = [(12, 932), (16, 2551), (24, 5789), (40, 12264), (48, 15502), (80, 28454)]
    refs = [_long_context(llama8, g, t, "unsloth") for g, t in unsloth]
    refs += [_long_context(llama8, g, t, "peft") for g, t in hf]
    refs.append(_long_context(llama70, 48, 12106, "unsloth"))
    refs.append(_long_context(llama70, 80, 89389, "unsloth"))
    refs.append(_long_context(llama70, 80, 6916, "peft"))
    return refs


def _notebook(
    name: str, published: str, profile: Profile, kind: str, gib: float, versions: dict[str, str]
) -> Reference:
    return Reference(f"notebook {name}", UNSLOTH_NB + name, published, profile, kind, gib, versions)


NOTEBOOK_LOADS = [
    ("Llama3.1_(8B)-Alpaca.ipynb", "unsloth/Meta-Llama-3.1-8B-bnb-4bit", 5.984),
    ("Llama3_(8B)-Alpaca.ipynb", "unsloth/llama-3-8b-bnb-4bit", 5.594),
    ("Mistral_v0.3_(7B)-Alpaca.ipynb", "unsloth/mistral-7b-v0.3-bnb-4bit", 4.52),
    ("Qwen2.5_(7B)-Alpaca.ipynb", "unsloth/Qwen2.5-7B-bnb-4bit", 5.764),
    ("Phi_3.5_Mini-Conversational.ipynb", "unsloth/Phi-3.5-mini-instruct", 2.285),
    ("Gemma2_(9B)-Alpaca.ipynb", "unsloth/gemma-2-9b-bnb-4bit", 6.576),
    ("Mistral_Nemo_(12B)-Alpaca.ipynb", "unsloth/Mistral-Nemo-Base-2407-bnb-4bit", 8.588),
    ("Phi_4-Conversational.ipynb", "unsloth/Phi-4", 10.043),
    ("Mistral_Small_(22B)-Alpaca.ipynb", "unsloth/Mistral-Small-Instruct-2409", 12.486),
]
"""(notebook, model, the "X GB of memory reserved" it printed after loading + LoRA r 16)."""


def _notebook_peaks() -> list[Reference]:
    tiny = _qlora(
        "unsloth/tinyllama-bnb-4bit",
        4096,
        r=32,
        batch=2,
        ckpt="off",
        backend="unsloth",
        dtype="fp16",
    )
    llama3b = _qlora(
        "unsloth/Llama-3.2-3B-Instruct",
        2048,
        r=16,
        batch=2,
        ckpt="unsloth",
        backend="unsloth",
        dtype="fp16",
    )
    return [
        _notebook(
            "TinyLlama_(1.1B)-Alpaca.ipynb",
            "Unsloth 2024.1, Tesla T4, packing=True, max_seq_length 4096, batch 2, r 32, "
            "no checkpointing, adamw_8bit: Peak reserved memory = 13.508 GB",
            tiny,
            "peak_reserved",
            13.508,
            {"unsloth": "2024.1"},
        ),
        _notebook(
            "Llama3.2_(1B_and_3B)-Conversational.ipynb",
            "Unsloth 2024.10, Tesla T4, FineTome-100k truncated at 2048, batch 2, r 16, "
            "unsloth checkpointing, adamw_8bit: Peak reserved memory = 6.531 GB",
            llama3b,
            "peak_reserved",
            6.531,
            {"unsloth": "2024.10"},
        ),
    ]


def _unsloth_notebooks() -> list[Reference]:
    refs = _notebook_peaks()
    for name, model, gib in NOTEBOOK_LOADS:
        profile = _qlora(model, 2048, r=16, batch=2, ckpt="unsloth", backend="unsloth")
        words = f"{model}, r 16 on all linear layers, after loading: {gib} GB of memory reserved"
        refs.append(_notebook(name, words, profile, "load", gib, {}))
    return refs


def _ran_on() -> list[Reference]:
    seed = _qlora(
        "unsloth/Llama-3.2-3B-Instruct-bnb-4bit",
        2048,
        r=16,
        batch=1,
        ckpt="unsloth",
        backend="auto",
    )
    return [
        Reference(
            id="seed: Llama-3.2-3B QLoRA on a 4 GB RTX 3050",
            source="shared/seeds/001_a90feb2809252863.txt (a user's training log)",
            published="RTX 3050 Laptop 4096 MiB: Llama-3.2-3B-Instruct-bnb-4bit, seq 2048, r 16, "
            "batch 1, grad accum 4, Unsloth gradient checkpointing: trains",
            profile=seed,
            kind="ran_on",
            measured_gib=None,
            card_gib=4.0,
        )
    ]


def references() -> list[Reference]:
    """All reference points, measured ones first."""
    return _unsloth_long_context() + _unsloth_notebooks() + _ran_on()


def estimated_gib(ref: Reference, fitted: Fitted | None = None) -> float:
    """The estimate comparable with the reference's measurement, in GiB (`fitted`: other
    values of the fitted constants, for leave-one-source-out)."""
    import dataclasses

    from cockpit.vram.estimate import estimate
    from cockpit.vram.terms import GIB

    stack = ref.stack if fitted is None else dataclasses.replace(ref.stack, fitted=fitted)
    result = estimate(ref.profile, ref.card_gib, stack=stack, suggest=False)
    if ref.kind == "load":  # weights and adapters in the allocator's pool, nothing trained yet
        loaded = sum(
            t.bytes for t in result.terms if t.name in ("weights", "embeddings", "adapters")
        )
        return (loaded + _allocator(stack, loaded)) / GIB
    if ref.kind == "ran_on":
        return result.total_gib
    return result.peak_reserved_gib


def _allocator(stack: Stack, allocated: float) -> float:
    from cockpit.vram.terms import GIB

    return stack.fitted.allocator_fraction * allocated + stack.fitted.allocator_fixed_gib * GIB
