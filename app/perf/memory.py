"""Memory side of the performance model: parameter counts, weight bytes, KV cache and fit.

Everything is derived from the architecture (never from a stated parameter count), per tensor-parallel rank,
and accounted the way vLLM sizes its KV cache: ``total × gpu_memory_utilization − weights − activation peak −
CUDA graphs − non-torch memory``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.perf.errors import InvalidConfigError
from app.perf.types import GpuSpec, ModelArch, Workload

GIB = 1024**3
GB = 1e9

# Bytes per parameter of the quantised linear layers. int4 (AWQ/GPTQ, group 128) carries a 16-bit scale and a
# packed zero point per group; fp8/int8 carry per-channel or per-tensor scales, which are negligible. mxfp4
# (OCP microscaling, gpt-oss's released format) is 4-bit values with one 8-bit scale per block of 32.
WEIGHT_BYTES: dict[str, float] = {
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5 + 2.5 / 128,
    "mxfp4": 0.5 + 1.0 / 32,
}
TP_DEGREES = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts of a model, split the way compute and memory need them."""

    total: int
    active: int  # parameters touched per token (routed experts counted top-k only)
    embedding: int  # input embedding table
    lm_head: int  # output projection (0 when tied to the embedding)
    attention: int  # all layers
    dense_mlp: int  # all dense MLP layers plus shared experts
    expert: int  # one routed expert of one layer
    n_moe_layers: int
    norms: int


def _attention_params(arch: ModelArch) -> int:
    h = arch.hidden_size
    if arch.is_mla:
        nope, rope = arch.qk_nope_head_dim or 0, arch.qk_rope_head_dim or 0
        v = arch.v_head_dim or 0
        heads = arch.num_attention_heads
        kv_lora = arch.kv_lora_rank or 0
        if arch.q_lora_rank:
            q = h * arch.q_lora_rank + arch.q_lora_rank + arch.q_lora_rank * heads * (nope + rope)
        else:
            q = h * heads * (nope + rope)
        kv = h * (kv_lora + rope) + kv_lora + kv_lora * heads * (nope + v)
        return q + kv + heads * v * h
    assert arch.head_dim is not None
    q_out = arch.num_attention_heads * arch.head_dim
    kv_out = arch.num_key_value_heads * arch.head_dim
    return h * q_out + 2 * h * kv_out + q_out * h


def _mlp_params(arch: ModelArch, inter: int) -> int:
    return (3 if arch.gated_mlp else 2) * arch.hidden_size * inter


def param_counts(arch: ModelArch) -> ParamCounts:
    """Count parameters from the architecture: dense, MoE (routed + shared experts) and MLA."""
    layers = arch.num_hidden_layers
    embedding = arch.vocab_size * arch.hidden_size
    lm_head = 0 if arch.tie_word_embeddings else embedding
    attention = _attention_params(arch) * layers
    norms = (2 * layers + 1) * arch.hidden_size
    if not arch.is_moe:
        dense = _mlp_params(arch, arch.intermediate_size) * layers
        total = embedding + lm_head + attention + dense + norms
        return ParamCounts(total, total, embedding, lm_head, attention, dense, 0, 0, norms)
    assert arch.num_experts is not None
    first_dense = arch.first_k_dense_replace or 0
    moe_layers = layers - first_dense
    expert_inter = arch.moe_intermediate_size or arch.intermediate_size
    expert = _mlp_params(arch, expert_inter)
    shared = (arch.num_shared_experts or 0) * expert
    router = arch.hidden_size * arch.num_experts
    dense = first_dense * _mlp_params(arch, arch.intermediate_size) + moe_layers * (shared + router)
    top_k = arch.num_experts_per_tok or 1
    total = embedding + lm_head + attention + dense + moe_layers * arch.num_experts * expert + norms
    active = embedding + lm_head + attention + dense + moe_layers * top_k * expert + norms
    return ParamCounts(total, active, embedding, lm_head, attention, dense, expert, moe_layers, norms)


def check_tp(arch: ModelArch, tp: int) -> None:
    """Raise InvalidConfigError when the model cannot be split over ``tp`` ranks."""
    if tp < 1:
        raise InvalidConfigError(f"tensor parallel degree must be >= 1, got {tp}")
    if tp > arch.num_attention_heads:
        raise InvalidConfigError(
            f"TP={tp} is larger than the {arch.num_attention_heads} attention heads of {arch.id}; "
            f"choose one of {valid_tp_degrees(arch)}"
        )
    if arch.num_attention_heads % tp != 0:
        raise InvalidConfigError(
            f"{arch.num_attention_heads} attention heads of {arch.id} do not split evenly over TP={tp}; "
            f"choose one of {valid_tp_degrees(arch)}"
        )


def valid_tp_degrees(arch: ModelArch, gpu_count: int = 8) -> list[int]:
    """TP degrees that split the attention heads evenly (KV heads split or are replicated)."""
    out = []
    for tp in TP_DEGREES:
        if tp > gpu_count or tp > arch.num_attention_heads or arch.num_attention_heads % tp:
            continue
        kv = arch.num_key_value_heads
        if not arch.is_mla and kv % tp and tp % kv:
            continue
        out.append(tp)
    return out


def kv_heads_per_rank(arch: ModelArch, tp: int) -> int:
    """KV heads stored on one rank: split when possible, replicated when TP exceeds the KV heads."""
    return max(1, arch.num_key_value_heads // tp)


def kv_bytes_per_token_layer(arch: ModelArch, tp: int, kv_dtype_bytes: float) -> float:
    """KV bytes one token occupies in one layer on one rank (MLA latent is replicated on every rank)."""
    if arch.is_mla:
        return ((arch.kv_lora_rank or 0) + (arch.qk_rope_head_dim or 0)) * kv_dtype_bytes
    assert arch.head_dim is not None
    return 2 * kv_heads_per_rank(arch, tp) * arch.head_dim * kv_dtype_bytes


def kv_bytes_per_token(arch: ModelArch, tp: int = 1, kv_dtype_bytes: float = 2.0) -> float:
    """KV bytes per token per rank over all layers, counting sliding-window layers like full ones.

    This is the figure for a token inside the window; see ``kv_bytes_for_sequence`` for long contexts.
    """
    return arch.num_hidden_layers * kv_bytes_per_token_layer(arch, tp, kv_dtype_bytes)


def kv_bytes_for_sequence(arch: ModelArch, tokens: float, tp: int = 1, kv_dtype_bytes: float = 2.0) -> float:
    """KV bytes per rank held by one sequence of ``tokens`` (sliding layers keep only the window)."""
    per_layer = kv_bytes_per_token_layer(arch, tp, kv_dtype_bytes)
    sliding = arch.n_sliding_layers
    full = arch.num_hidden_layers - sliding
    window = arch.sliding_window or 0
    return per_layer * (full * tokens + sliding * min(tokens, window))


def default_kv_dtype_bytes(precision: str, engine: str) -> float:
    """KV cache dtype: the model dtype, except TensorRT-LLM's FP8 recipes which quantise the cache too."""
    return 1.0 if (precision == "fp8" and engine == "trtllm") else 2.0


def weight_bytes(arch: ModelArch, precision: str) -> float:
    """Bytes of all weights. Embeddings and lm_head stay 16-bit in quantised checkpoints."""
    if precision not in WEIGHT_BYTES:
        raise InvalidConfigError(f"unknown precision {precision!r}; use one of {sorted(WEIGHT_BYTES)}")
    pc = param_counts(arch)
    sixteen = pc.embedding + pc.lm_head + pc.norms
    return sixteen * 2.0 + (pc.total - sixteen) * WEIGHT_BYTES[precision]


def weight_bytes_per_gpu(arch: ModelArch, precision: str, tp: int) -> float:
    """Weights on one rank: everything is sharded over TP except the norms (tiny)."""
    return weight_bytes(arch, precision) / tp


@dataclass(frozen=True)
class MemoryPlan:
    """vLLM-style memory budget of one rank, in bytes unless noted."""

    gpu_bytes: float
    gpu_memory_utilization: float
    weights: float
    activation_peak: float
    cuda_graphs: float
    non_torch: float
    kv_cache: float
    kv_bytes_per_token: float
    kv_cache_tokens: int
    fits_weights: bool

    @property
    def reserve(self) -> float:
        return self.activation_peak + self.cuda_graphs + self.non_torch


def activation_peak_bytes(arch: ModelArch, tp: int, max_num_batched_tokens: int, max_num_seqs: int) -> float:
    """Peak activation memory of vLLM's profiling forward pass (max_num_batched_tokens dummy tokens)."""
    inter = (
        arch.moe_intermediate_size if arch.is_moe and arch.moe_intermediate_size else arch.intermediate_size
    )
    per_token = 4 * arch.hidden_size + 2 * inter * (arch.num_experts_per_tok or 1) / tp
    logits = max_num_seqs * arch.vocab_size / tp * 4 * 2  # fp32 logits plus probabilities in the sampler
    return max_num_batched_tokens * per_token * 2 + logits


def plan_memory(
    arch: ModelArch,
    gpu: GpuSpec,
    *,
    tp: int = 1,
    precision: str = "bf16",
    gpu_memory_utilization: float = 0.9,
    max_num_batched_tokens: int = 8192,
    max_num_seqs: int = 256,
    kv_dtype_bytes: float = 2.0,
) -> MemoryPlan:
    """Account one rank's memory the way vLLM does and derive the KV cache capacity."""
    check_tp(arch, tp)
    if not 0 < gpu_memory_utilization <= 1:
        raise InvalidConfigError("gpu_memory_utilization must be in (0, 1]")
    total = gpu.memory_gb * GB
    weights = weight_bytes_per_gpu(arch, precision, tp)
    act = activation_peak_bytes(arch, tp, max_num_batched_tokens, max_num_seqs)
    graphs = 0.25 * GIB + arch.num_hidden_layers * 4e6
    non_torch = 0.3 * GIB + (0.7 * GIB if tp > 1 else 0.0)
    budget = total * gpu_memory_utilization
    kv = budget - weights - act - graphs - non_torch
    per_token = kv_bytes_per_token(arch, tp, kv_dtype_bytes)
    tokens = int(max(kv, 0.0) // per_token) if per_token > 0 else 0
    return MemoryPlan(
        gpu_bytes=total,
        gpu_memory_utilization=gpu_memory_utilization,
        weights=weights,
        activation_peak=act,
        cuda_graphs=graphs,
        non_torch=non_torch,
        kv_cache=max(kv, 0.0),
        kv_bytes_per_token=per_token,
        kv_cache_tokens=tokens,
        fits_weights=weights + act + graphs + non_torch < budget,
    )


def max_concurrent_seqs(
    arch: ModelArch,
    plan: MemoryPlan,
    workload: Workload,
    tp: int,
    max_num_seqs: int,
    kv_dtype_bytes: float = 2.0,
) -> int:
    """Sequences whose whole KV (prompt + output at mean lengths) fits together, capped by max_num_seqs."""
    per_seq = kv_bytes_for_sequence(
        arch, workload.input_tokens.mean + workload.output_tokens.mean, tp, kv_dtype_bytes
    )
    if per_seq <= 0:
        return max_num_seqs
    return int(min(max_num_seqs, plan.kv_cache // per_seq))


def fit_reason(
    arch: ModelArch, gpu: GpuSpec, plan: MemoryPlan, workload: Workload, tp: int, kv_dtype_bytes: float = 2.0
) -> str | None:
    """None when the configuration fits; otherwise a sentence a person can act on."""
    if not plan.fits_weights:
        need = (plan.weights + plan.reserve) / GB
        have = plan.gpu_bytes * plan.gpu_memory_utilization / GB
        return (
            f"weights ({plan.weights / GB:.1f} GB per GPU at TP={tp}) plus runtime reserve "
            f"({plan.reserve / GB:.1f} GB) need {need:.1f} GB, but {gpu.id} offers {have:.1f} GB at "
            f"gpu_memory_utilization={plan.gpu_memory_utilization}; "
            "use more GPUs (higher TP) or a lower precision"
        )
    longest = workload.input_tokens.upper + workload.output_tokens.upper
    needed = kv_bytes_for_sequence(arch, longest, tp, kv_dtype_bytes)
    if needed > plan.kv_cache:
        return (
            f"the KV cache holds {plan.kv_cache_tokens} tokens ({plan.kv_cache / GB:.2f} GB per GPU), "
            "but one "
            f"request of {longest} tokens needs more; use more GPUs, a lower precision or shorter requests"
        )
    return None
