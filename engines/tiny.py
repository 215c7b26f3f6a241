"""The tiny demo model (`cockpit:tiny-llama`), built locally so a demo needs no hub and no GPU.

A 2-layer Llama from ``TINY_LLAMA_CONFIG`` with a byte-level BPE tokenizer (vocabulary
1024) trained on the bundled demo data, a small chat template and a pad token. It is built
once into the user's cache dir and then loaded like any local model. The build is seeded,
so it gives the same files every time, and written to a temporary directory that is
renamed into place, so two processes building at once both end up with a whole model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engines.protocol import TINY_LLAMA_CONFIG

CACHE_ENV = "COCKPIT_CACHE_DIR"
BUILD_SEED = 1234
STAMP_FILE = "cockpit-build.json"
SPECIAL_TOKENS = ("<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>")
PAD, EOS = SPECIAL_TOKENS[0], SPECIAL_TOKENS[1]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
"""Turns as `<|role|>`, a newline, the text and `<|end|>` (the eos token)."""
_BUILD_VERSION = 1  # bump when the recipe changes, so caches rebuild


def cache_dir() -> Path:
    """$COCKPIT_CACHE_DIR, else $XDG_CACHE_HOME/cockpit, else ~/.cache/cockpit."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "cockpit"


def demo_data_path() -> Path:
    """The bundled demo data (data/demo.jsonl beside the shipped profiles)."""
    from engines.data import shipped_profiles_dir

    return shipped_profiles_dir() / "data" / "demo.jsonl"


def tiny_model_dir() -> Path:
    return cache_dir() / "tiny-llama"


def ensure_tiny_model() -> Path:
    """The tiny model's directory, built first if missing or built from another recipe."""
    target = tiny_model_dir()
    stamp = _stamp(demo_data_path())
    if _read_stamp(target) == stamp:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-llama-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary folder
    try:
        build_tiny_model(staging, demo_data_path())
        (staging / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
        _move_into_place(staging, target, stamp)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _move_into_place(staging: Path, target: Path, stamp: dict[str, object]) -> None:
    """Rename the built dir onto target; a stale target is moved aside first."""
    if target.exists() and _read_stamp(target) != stamp:
        aside = Path(tempfile.mkdtemp(prefix=".tiny-llama-old-", dir=target.parent))
        with contextlib.suppress(OSError):  # another process moved it already
            os.replace(target, aside / "model")
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.replace(staging, target)
    except OSError:
        if _read_stamp(target) != stamp:  # lost a race to a build of the same recipe: fine
            raise


def _stamp(data: Path) -> dict[str, object]:
    digest = hashlib.sha256(data.read_bytes()).hexdigest()[:16] if data.is_file() else "none"
    return {"version": _BUILD_VERSION, "config": TINY_LLAMA_CONFIG, "data": digest}


def _read_stamp(directory: Path) -> object:
    try:
        return json.loads((directory / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def build_tiny_model(out: Path, data: Path) -> None:
    """Write the tokenizer and a freshly initialised (seeded) model to ``out``."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(list(_texts(data)))
    values = {k: v for k, v in TINY_LLAMA_CONFIG.items() if k != "model_type"}
    ids = {"pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.eos_token_id}
    config = LlamaConfig(**values, bos_token_id=tokenizer.eos_token_id, **ids)
    torch.manual_seed(BUILD_SEED)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(bos_token_id=tokenizer.eos_token_id, **ids)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def build_tokenizer(texts: list[str]):  # -> PreTrainedTokenizerFast
    """A byte-level BPE tokenizer trained on ``texts`` (deterministic for the same texts)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    vocab_size = int(TINY_LLAMA_CONFIG["vocab_size"])  # type: ignore[call-overload]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=list(SPECIAL_TOKENS[2:]),
        chat_template=CHAT_TEMPLATE,
        model_max_length=int(TINY_LLAMA_CONFIG["max_position_embeddings"]),  # type: ignore[call-overload]
    )


def _texts(data: Path) -> Iterator[str]:
    """Every message text of the demo data (nothing when the file is missing)."""
    if not data.is_file():
        return
    with open(data, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            for message in row.get("messages", []):
                yield str(message.get("content", ""))
