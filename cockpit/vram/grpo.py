"""GRPO's own memory: the rollout's KV cache, the completion log-probs, the reference model, vLLM.

Read from TRL 1.16's GRPOTrainer (trl/trainer/grpo_trainer.py) and transformers' generate:

- **Generation** (HF `generate`, no vLLM) happens before the training pass, once per
  `steps_per_generation` (= grad_accum) steps, for the whole generation batch at once:
  `per_device_train_batch_size × steps_per_generation` sequences (batch_size counts
  completions, so that is batch_size × grad_accum / num_generations prompts with
  num_generations completions each), left-padded to the longest prompt. Nothing is saved
  for backward then and the gradients are freed, so it is a moment of its own. It holds the
  KV cache (DynamicCache: 2 × layers × kv_dim per token, in the model's dtype, for prompt +
  completion), and the biggest temporaries of either the prefill (one layer at a time over
  every prompt token: the gated MLP's three intermediates; the attention's by
  implementation, below) or one decode step (DynamicCache's `torch.cat` holds a layer's old
  and new cache; fp32 logits of the last position, temperature-scaled, softmaxed).
- **Attention** in generation: the batch is padded, so a mask is always passed. Eager
  materializes the s² scores (16-bit, fp32 softmax, 16-bit copy) and repeats k/v to every
  head; SDPA with a mask cannot use its GQA path (transformers `use_gqa_in_sdpa`), so it
  repeats k/v too and builds a boolean s² mask, but its kernel keeps no scores; FlashAttention
  2 unpads q/k/v (one copy) and keeps neither.
- **Completion log-probs**: TRL (1.16; trl PR #7077) patches the model with a fused LM
  head (`add_fused_lm_head` → `ChunkedLogProbFunction`): only completion positions are
  projected, in [4096 tokens × 32768 vocab] tiles; backward accumulates the hidden-state
  gradient (and, for a full fine-tune, the lm_head gradient) in fp32. Before it, TRL
  materialized the completion logits (16-bit), a temperature-scaled copy and a per-row
  log-softmax kept for backward: `MATERIALIZED_LOGIT_BYTES` per logit.
- **Reference model** (beta > 0): a full fine-tune loads a second copy of the model in the
  policy's dtype; with LoRA (PEFT or Unsloth) TRL disables the adapter instead: no copy.
- **vLLM**: colocated, vLLM lives in the training process and takes
  `vllm_gpu_memory_utilization` of the card for its weights and KV cache, for the whole run
  (and generates instead of HF); in server mode it runs on another GPU: nothing here.

Unsloth patches GRPOTrainer with its own loss; its logits term stays Unsloth's
(`cockpit.vram.terms`), and its generation is estimated as HF's.
"""

from __future__ import annotations

from cockpit.vram.plan import Plan
from cockpit.vram.terms import GIB, Term, weight_terms
from engines.profile_schema import GrpoSection

STREAMED_LOGPROBS = True
"""TRL computes GRPO's per-token log-probs with its chunked LM head (TRL 1.16, installed)."""
TOKEN_TILE, VOCAB_TILE = 4096, 32768
"""trl/kernels/chunked_logprob.py TOKEN_CHUNK_SIZE and trl/trainer/utils.py's chunk size."""
MATERIALIZED_LOGIT_BYTES = 8.0
"""Older TRL, per completion logit: 16-bit logits divided by the temperature (a 16-bit
copy), the per-row log-softmax kept for backward (16-bit), and the logits' gradient."""
_SAMPLING_BYTES = 3 * 4
"""Per vocabulary entry of a decode step, on top of the 16-bit logits: the fp32 copy
generate takes, the temperature-scaled scores and the softmax probabilities (all fp32)."""
_MLP_INTERMEDIATES = 3
"""Gate, up and act(gate) alive together in a gated MLP's forward."""


def _grpo(plan: Plan) -> GrpoSection | None:
    if plan.profile.engine != "grpo":
        return None
    return plan.profile.grpo or GrpoSection()


def generation_sequences(plan: Plan) -> int:
    """Sequences generated at once: batch_size × steps_per_generation (= grad_accum)."""
    train = plan.profile.train
    return train.batch_size * train.grad_accum


def _prompt_completion(plan: Plan) -> tuple[int, int]:
    grpo = _grpo(plan) or GrpoSection()
    return grpo.max_prompt_length, grpo.max_completion_length


def kv_cache_bytes(plan: Plan) -> float:
    """The generation batch's KV cache at the last token: keys and values of every layer."""
    prompt, completion = _prompt_completion(plan)
    spec, a = plan.spec, plan.weight_bytes
    per_token = 2 * spec.num_layers * spec.kv_dim * a
    return generation_sequences(plan) * (prompt + completion) * per_token


def _attention_bytes(plan: Plan, queries: int, keys: int) -> float:
    """One layer's attention temporaries per sequence, by implementation."""
    spec, a = plan.spec, plan.weight_bytes
    impl = plan.profile.model.attn_implementation
    if impl == "flash_attention_2":
        return queries * (spec.q_dim + 2 * spec.kv_dim) * a  # unpadded q, k, v copies
    repeated = 2 * keys * spec.q_dim * a  # k and v repeated to every head
    if impl == "eager":
        return repeated + spec.num_heads * queries * keys * (2 * a + 4)
    return repeated + queries * keys  # SDPA (and "auto"): the boolean mask


def _dequantized(plan: Plan) -> float:
    """bitsandbytes dequantizes a k-bit weight to 16 bit for a batched matmul."""
    if plan.quantization == "none":
        return 0.0
    return max(m.out_features * m.in_features for m in plan.spec.linears()) * 2.0


def generation_work_bytes(plan: Plan) -> float:
    """The larger of the prefill's and one decode step's temporaries."""
    spec, a = plan.spec, plan.weight_bytes
    prompt, completion = _prompt_completion(plan)
    total = prompt + completion
    sequences = generation_sequences(plan)
    mlp = _MLP_INTERMEDIATES * spec.intermediate_size * a * prompt
    hidden = 3 * spec.hidden_size * a * prompt  # residual, hidden states, normed input
    prefill = hidden + max(mlp, _attention_bytes(plan, prompt, prompt))
    layer_cache = 2 * spec.kv_dim * a * total  # DynamicCache's cat: old and new both alive
    logits = spec.vocab_size * (a + _SAMPLING_BYTES)
    decode = layer_cache + _attention_bytes(plan, 1, total) + logits
    return sequences * max(prefill, decode) + _dequantized(plan)


def generation_terms(plan: Plan) -> list[Term]:
    """The generation moment: KV cache and temporaries (zero without GRPO, or with vLLM)."""
    grpo = _grpo(plan)
    if grpo is None or grpo.use_vllm:
        how = "vLLM generates: its share is the vllm term" if grpo else "GRPO rollouts"
        return [
            Term("generation_cache", f"generation KV cache ({how})", 0.0),
            Term("generation_work", f"generation temporaries ({how})", 0.0),
        ]
    prompt, completion = _prompt_completion(plan)
    shape = (
        f"{generation_sequences(plan)} sequences (batch_size × grad_accum) × "
        f"{prompt + completion} tokens"
    )
    impl = plan.profile.model.attn_implementation
    impl = "sdpa" if impl == "auto" else impl
    return [
        Term("generation_cache", f"generation KV cache: {shape}", kv_cache_bytes(plan)),
        Term(
            "generation_work",
            f"generation temporaries: prefill / one decode step ({impl} attention, sampling)",
            generation_work_bytes(plan),
        ),
    ]


def streamed_logprob_bytes(plan: Plan) -> float:
    """TRL's chunked LM head at its backward peak: a logits tile, the completion hidden
    states it keeps, their fp32 gradient (and a full fine-tune's fp32 lm_head gradient)."""
    spec, a = plan.spec, plan.weight_bytes
    completion_tokens = plan.batch * plan.loss_seq
    tile = min(completion_tokens, TOKEN_TILE) * min(spec.vocab_size, VOCAB_TILE) * a
    hidden = completion_tokens * spec.hidden_size * (a + 4 + a)  # kept, fp32 grad, cast
    head = 0.0
    if plan.profile.lora is None:  # grad_weight accumulated in fp32, then cast
        head = spec.vocab_size * spec.hidden_size * (4 + plan.weight_bytes)
    return tile + hidden + head


def loss_terms(plan: Plan, loss: list[Term]) -> list[Term]:
    """The loss moment's terms with GRPO's completion log-probs in place of the logits
    term (HF + PEFT backend; Unsloth keeps its own loss)."""
    if _grpo(plan) is None or plan.backend == "unsloth":
        return loss
    tokens = plan.batch * plan.loss_seq
    if STREAMED_LOGPROBS:
        term = Term(
            "logits",
            f"completion log-probs: TRL's chunked LM head over {tokens:,} completion tokens "
            "(no full logits)",
            streamed_logprob_bytes(plan),
        )
    else:
        size = MATERIALIZED_LOGIT_BYTES * tokens * plan.spec.vocab_size
        term = Term("logits", "completion logits and log-probs (materialized)", size)
    return [term if t.name == "logits" else t for t in loss]


def reference_term(plan: Plan) -> Term:
    """beta > 0: a full fine-tune keeps a frozen second copy; LoRA disables its adapter."""
    grpo = _grpo(plan)
    label = "reference model for the KL term (GRPO, beta > 0)"
    if grpo is None or grpo.beta <= 0:
        return Term("reference_model", label, 0.0)
    if plan.profile.lora is not None:
        note = "LoRA: the reference pass disables the adapter, no second copy"
        return Term("reference_model", label, 0.0, note)
    return Term("reference_model", label, sum(t.bytes for t in weight_terms(plan)))


def vllm_term(plan: Plan, card_gib: float | None) -> Term:
    """Colocated vLLM: its share of the card, held all run (server mode: another GPU)."""
    grpo = _grpo(plan)
    if grpo is None or not grpo.use_vllm:
        return Term("vllm", "vLLM (colocated generation)", 0.0)
    if grpo.vllm_mode == "server":
        return Term("vllm", "vLLM server", 0.0, "server mode: vLLM runs on another GPU")
    share = grpo.vllm_gpu_memory_utilization
    label = f"vLLM colocated: {share:.0%} of the card (vllm_gpu_memory_utilization)"
    if card_gib is None:
        return Term("vllm", label, 0.0, "no card size known: not added")
    return Term("vllm", label, share * card_gib * GIB)
