"""`python -m engines export RUN_DIR --to merged|ollama|gguf`: what a run trained, shipped.

- merged: the base model with the run's adapter merged in (PEFT's `merge_and_unload`),
  saved as safetensors with the tokenizer and a generation config. A base trained in 4 or
  8 bits is loaded unquantized (16-bit on a GPU) for the merge: said so.
- ollama: a `Modelfile` beside the merged model (made first when missing): FROM it, the
  tokenizer's chat template as Ollama's TEMPLATE (derived by rendering the template with
  marker texts), its stop token, and an optional SYSTEM.
- gguf: llama.cpp's own converter (`convert_hf_to_gguf.py` in `$LLAMA_CPP_DIR`) on the
  merged model, then `llama-quantize` for q4_k_m; without them it says what to install and
  writes nothing.

Everything lands in RUN_DIR/exports/ and appears there whole or not at all: it is written
in a hidden folder first, then renamed. Progress goes to stdout one line at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from engines import modeling
from engines.chat import ChatError, weights_folder
from engines.profile_schema import read_profile
from engines.protocol import PROFILE_FILE

EXPORTS_DIR = "exports"
GGUF_TYPES = ("f16", "q8_0", "q4_k_m")
CONVERTER = "convert_hf_to_gguf.py"
QUANTIZE = "llama-quantize"
MARK = "\x00{}\x00"


class ExportError(Exception):
    """The export cannot be made here; the message says what to do."""


def say(text: str) -> None:
    print(text, flush=True)


def log(level: str, text: str) -> None:
    if level != "info":
        say(f"{level}: {text}")


def _replace(staging: Path, final: Path) -> Path:
    """Put `staging` where `final` is, whole: an older export is swapped out, then removed."""
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def merged(run_dir: Path, checkpoint: int | None = None) -> Path:
    """RUN_DIR/exports/merged: base + adapter merged, saved with the tokenizer."""
    import torch
    from peft import PeftModel

    settings = read_profile(run_dir / PROFILE_FILE)
    weights = weights_folder(run_dir, checkpoint)
    if not (weights / "adapter_config.json").is_file():
        raise ExportError(f"{weights} holds no adapter: a full fine-tune is already a model")
    runtime = modeling.detect_runtime(log)
    if settings.model.quantization in ("4bit", "8bit"):
        say(f"the run trained a {settings.model.quantization} base: merging into its 16-bit "
            "weights (a quantized base cannot hold a merged adapter)")  # fmt: skip
    dtype = torch.float16 if runtime.cuda else torch.float32
    base = modeling.model_path(settings.model.name_or_path)
    say(f"loading {settings.model.name_or_path} and the adapter from {weights}")
    tokenizer = modeling.load_tokenizer(
        str(weights) if (weights / "tokenizer_config.json").is_file() else base, log
    )
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    modeling.resize_for_tokenizer(model, tokenizer)
    model = PeftModel.from_pretrained(model, str(weights)).merge_and_unload()
    exports = run_dir / EXPORTS_DIR
    exports.mkdir(exist_ok=True)
    staging = exports / ".merged.partial"
    shutil.rmtree(staging, ignore_errors=True)
    say("merging and saving (safetensors)")
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(staging)
    final = _replace(staging, exports / "merged")
    say(f"merged: {final}")
    return final


def ollama_template(tokenizer: Any) -> tuple[str, list[str]]:
    """(Ollama TEMPLATE, stop strings) from the tokenizer's chat template: rendered with
    marker texts, the text around them is the template's own."""
    if not getattr(tokenizer, "chat_template", None):
        raise ExportError("the tokenizer has no chat template: Ollama would need one written")
    system, user, reply = (MARK.format(name) for name in ("system", "user", "reply"))

    def render(messages: list[dict[str, str]], prompt: bool) -> str:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)

    full = render([{"role": "system", "content": system}, {"role": "user", "content": user},
                   {"role": "assistant", "content": reply}], False)  # fmt: skip
    bare = render([{"role": "user", "content": user}], True)
    if not all(mark in full for mark in (system, user, reply)) or user not in bare:
        raise ExportError("the chat template drops a message: its TEMPLATE must be written by hand")
    before_system, rest = full.split(system)
    system_to_user, rest = rest.split(user)
    user_to_reply, after_reply = rest.split(reply)
    plain_prefix, generation = bare.split(user)
    if generation != user_to_reply:  # e.g. a template that opens a thinking block to generate
        raise ExportError(
            "the chat template prompts a reply differently from how it writes one: "
            "its Ollama TEMPLATE must be written by hand"
        )
    template = (
        f"{{{{ if .System }}}}{before_system}{{{{ .System }}}}{system_to_user}"
        f"{{{{ else }}}}{plain_prefix}{{{{ end }}}}{{{{ .Prompt }}}}{user_to_reply}"
        f"{{{{ .Response }}}}{after_reply}"
    )
    stops = [t for t in {tokenizer.eos_token, after_reply.strip()} if t]
    return template, sorted(stops)


def ollama(run_dir: Path, name: str, system: str | None, checkpoint: int | None) -> Path:
    """RUN_DIR/exports/ollama/Modelfile (the merged model made first when missing)."""
    from transformers import AutoTokenizer

    model_dir = run_dir / EXPORTS_DIR / "merged"
    if not (model_dir / "config.json").is_file():
        model_dir = merged(run_dir, checkpoint)
    template, stops = ollama_template(AutoTokenizer.from_pretrained(model_dir))
    lines = [f"FROM {model_dir.resolve()}", f'TEMPLATE """{template}"""']
    lines += [f'PARAMETER stop "{stop}"' for stop in stops]
    if system:
        lines.append(f'SYSTEM """{system}"""')
    staging = run_dir / EXPORTS_DIR / ".ollama.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "Modelfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
    final = _replace(staging, run_dir / EXPORTS_DIR / "ollama")
    modelfile = final / "Modelfile"
    command = ["ollama", "create", name, "-f", str(modelfile)]
    if shutil.which("ollama"):
        say(f"running: {' '.join(command)}")
        subprocess.run(command, check=True)
    else:
        say(f"Modelfile: {modelfile}\nollama is not on PATH; once it is: {' '.join(command)}")
    return modelfile


def _llama_cpp_tool(inside: str, name: str) -> Path | None:
    """`$LLAMA_CPP_DIR/inside/name`, else `name` on PATH; None when neither is a file."""
    folder = os.environ.get("LLAMA_CPP_DIR")
    on_path = shutil.which(name)
    found = [Path(folder) / inside / name] if folder else []
    found += [Path(on_path)] if on_path else []
    return next((path for path in found if path.is_file()), None)


def converter() -> Path:
    """llama.cpp's convert_hf_to_gguf.py: in $LLAMA_CPP_DIR, else on PATH; or why not."""
    found = _llama_cpp_tool("", CONVERTER)
    if found is None:
        raise ExportError(
            "GGUF needs llama.cpp's converter, which is not here. Install it once:\n"
            "  git clone --depth 1 https://github.com/ggml-org/llama.cpp ~/llama.cpp\n"
            f"  {sys.executable} -m pip install -r "
            "~/llama.cpp/requirements/requirements-convert_hf_to_gguf.txt\n"
            "then run again with LLAMA_CPP_DIR=~/llama.cpp (q4_k_m also needs llama-quantize: "
            "cmake -B build && cmake --build build --target llama-quantize in that folder)"
        )
    return found


def quantizer() -> Path:
    """llama.cpp's llama-quantize: in $LLAMA_CPP_DIR/build/bin, else on PATH; or why not."""
    found = _llama_cpp_tool("build/bin", QUANTIZE)
    if found is None:
        raise ExportError(
            "q4_k_m needs llama.cpp's llama-quantize: build it in $LLAMA_CPP_DIR (cmake -B build "
            "&& cmake --build build --target llama-quantize), or choose --quant f16 or q8_0"
        )
    return found


def gguf(run_dir: Path, quant: str, checkpoint: int | None) -> Path:
    """RUN_DIR/exports/model-QUANT.gguf through llama.cpp's own tools."""
    script = converter()
    requant = quantizer() if quant == "q4_k_m" else None
    model_dir = run_dir / EXPORTS_DIR / "merged"
    if not (model_dir / "config.json").is_file():
        model_dir = merged(run_dir, checkpoint)
    final = run_dir / EXPORTS_DIR / f"model-{quant}.gguf"
    staging = final.with_name(f".{final.name}.partial")
    quantized = staging.with_name(staging.name + ".q")
    first = "f16" if requant else quant
    try:
        say(f"converting with {script} ({first})")
        subprocess.run([sys.executable, str(script), str(model_dir), "--outfile", str(staging),
                        "--outtype", first], check=True)  # fmt: skip
        if requant is not None:
            say(f"quantizing with {requant} (Q4_K_M)")
            subprocess.run([str(requant), str(staging), str(quantized), "Q4_K_M"], check=True)
            quantized.replace(staging)
        staging.replace(final)
    finally:  # never a half-written file
        for partial in (staging, quantized):
            partial.unlink(missing_ok=True)
    say(f"gguf: {final}")
    return final


def main(run_dir: str, to: str, quant: str, name: str | None, system: str | None,
         checkpoint: int | None) -> int:  # fmt: skip
    folder = Path(run_dir)
    try:
        if to == "merged":
            merged(folder, checkpoint)
        elif to == "ollama":
            ollama(folder, name or folder.name.lower(), system, checkpoint)
        else:
            gguf(folder, quant, checkpoint)
    except (ExportError, ChatError, modeling.ModelLoadError) as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"export: {exc.cmd[0]} failed (exit {exc.returncode}); see its output above",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0
