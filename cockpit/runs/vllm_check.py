"""Pre-flight's question for `[grpo] use_vllm = true`: does the training interpreter have vLLM?

TRL imports vllm only when the trainer is built, after the model has loaded: a profile
that asks for vLLM in an environment without it would load for minutes and then die. The
engine refuses it before loading (`engines.grpo.require_vllm`); this says it before the
start. cockpit's own interpreter is asked with `find_spec` (nothing imported); another one
through the doctor's facts (its installed distributions, read without importing them).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec

from cockpit.runs.refusal import Refusal
from cockpit.runs.stack_check import STACK_TIMEOUT_S, same_interpreter
from engines.profile_schema import Profile

HasVllm = Callable[[str], "bool | None"]
"""python -> whether vllm is installed there (None: the interpreter could not be asked)."""


def interpreter_has_vllm(python: str) -> bool | None:
    """True/False for whether `python` has vllm installed; None when it cannot be asked."""
    if same_interpreter(python):
        return find_spec("vllm") is not None
    from cockpit.doctor.target import TargetError, gather_facts

    try:
        return gather_facts(python, timeout=STACK_TIMEOUT_S).has("vllm")
    except TargetError:
        return None


def vllm_warning(profile: Profile, python: str, has_vllm: HasVllm | None = None) -> Refusal | None:
    """The warning for a GRPO profile with `use_vllm = true` whose training interpreter
    `python` has no vllm; None otherwise (no vLLM asked, or it is there, or unknowable)."""
    grpo = profile.grpo
    if profile.engine != "grpo" or grpo is None or not grpo.use_vllm:
        return None
    if (has_vllm or interpreter_has_vllm)(python) is not False:
        return None
    where = "server" if grpo.vllm_mode == "server" else "colocated"
    return Refusal(
        "grpo.use_vllm",
        f"{python} has no vllm: the engine refuses to start the {where} vLLM generation "
        "(TRL needs vllm in the training process in both modes)",
        f"install it there: {python} -m pip install vllm (Linux with an NVIDIA GPU); or set "
        "use_vllm = false to generate with transformers",
        "env",
        value="true",
    )
