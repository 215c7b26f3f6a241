"""LoRA's trainable parameters, counted exactly from the decoder's module shapes.

PEFT adds A (r x in) and B (out x r) to every targeted linear module, so the count is
r * (in + out) per module and layer. Grouped-query attention makes k/v smaller than q
(out = kv_heads * head_dim); "all-linear" means every linear module except the lm_head.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.vram.specs import Linear, ModelSpec
from engines.profile_schema import LoraSection

ALL_LINEAR = "all-linear"
_OUTSIDE = ("lm_head", "embed_tokens")
"""Modules outside the decoder layers that PEFT can also target by name."""


@dataclass(frozen=True)
class LoraTargets:
    """What a target_modules setting selects in one model."""

    layer_modules: tuple[Linear, ...]
    """Targeted linear modules of each decoder layer."""
    outside: tuple[str, ...] = ()
    """"lm_head" / "embed_tokens" when named."""
    unknown: tuple[str, ...] = ()
    """Names that match no module of this architecture (PEFT ignores or rejects them)."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.layer_modules) + self.outside


def lora_targets(spec: ModelSpec, target_modules: str | tuple[str, ...]) -> LoraTargets:
    """The modules a profile's lora.target_modules selects in `spec`."""
    linears = spec.linears()
    if target_modules == ALL_LINEAR:
        return LoraTargets(linears)
    wanted = (target_modules,) if isinstance(target_modules, str) else tuple(target_modules)
    known = {m.name for m in linears}
    chosen = tuple(m for m in linears if m.name in wanted)
    outside = tuple(name for name in _OUTSIDE if name in wanted)
    unknown = tuple(n for n in wanted if n not in known and n not in _OUTSIDE)
    return LoraTargets(chosen, outside, unknown)


Shapes = list[tuple[int, int, int]]
"""(rows, cols, how many) of trainable matrices: one entry per distinct use, never one per
layer, so the work stays the same for 2 layers or 10,000."""


def matrix_shapes(spec: ModelSpec, lora: LoraSection) -> Shapes:
    """(rows, cols, count) of the A and B matrices LoRA adds (count: one per layer)."""
    targets = lora_targets(spec, lora.target_modules)
    r, h, v, n = lora.r, spec.hidden_size, spec.vocab_size, spec.num_layers
    shapes: Shapes = []
    for module in targets.layer_modules:
        shapes += [(r, module.in_features, n), (module.out_features, r, n)]
    if "lm_head" in targets.outside:
        shapes += [(r, h, 1), (v, r, 1)]
    if "embed_tokens" in targets.outside:
        shapes += [(r, v, 1), (h, r, 1)]
    return shapes


def lora_params(spec: ModelSpec, lora: LoraSection) -> int:
    """Trainable parameters PEFT creates for this LoRA setting (what it prints as trainable)."""
    return sum(rows * cols * count for rows, cols, count in matrix_shapes(spec, lora))
