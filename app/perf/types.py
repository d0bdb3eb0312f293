"""Typed inputs and outputs of the performance model.

The rest of the app maps database rows (or catalog JSON, or a Hugging Face ``config.json``) into these
objects; the planning maths only ever sees them. All models are frozen so they can key caches.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.perf.errors import InvalidConfigError

Precision = Literal["bf16", "fp16", "fp8", "int8", "int4", "mxfp4"]
Engine = Literal["vllm", "trtllm", "sglang"]
Basis = Literal["measured", "interpolated", "estimated"]
PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "fp8", "int8", "int4", "mxfp4")
ENGINES: tuple[str, ...] = ("vllm", "trtllm", "sglang")

# Model types whose MLP is a plain two-matrix feed-forward (no gate projection).
_UNGATED_MLP_TYPES = {"gptj", "gpt2", "gpt_neox", "falcon", "phi", "opt", "bloom", "gpt_bigcode", "mpt"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        match = re.match(r"\s*(\d+)", value)
        return int(match.group(1)) if match else None
    return None


def sliding_layers_from_pattern(pattern: Any, num_layers: int, model_type: str | None) -> int | None:
    """Number of sliding-window layers implied by a pattern (int period, layer list or catalog text).

    Returns None when every layer uses the window (no pattern given).
    """
    if pattern is None:
        if model_type in {"gemma2"}:
            return num_layers // 2
        if model_type in {"gemma3", "gemma3_text"}:
            return num_layers - num_layers // 6
        return None
    if isinstance(pattern, list):
        return sum(1 for kind in pattern if "sliding" in str(kind))
    if isinstance(pattern, int) and pattern > 0:
        # transformers' Gemma3 convention: every pattern-th layer is global, the others slide.
        return num_layers - num_layers // pattern
    text = str(pattern).lower()
    if text.startswith("no sliding"):
        return 0
    counted = re.search(r"(\d+)\s+sliding,\s*(\d+)\s+full", text)
    if counted:
        return int(counted.group(1))
    if "alternat" in text:
        return num_layers // 2
    period = re.search(r"sliding_window_pattern\s*=\s*(\d+)", text) or re.search(r"every\s+(\d+)", text)
    if period:
        return num_layers - num_layers // int(period.group(1))
    local_then_global = re.search(r"(\d+)\s+local[_ ]sliding layers then (\d+)\s+global", text)
    if local_then_global:
        local, glob = int(local_then_global.group(1)), int(local_then_global.group(2))
        return num_layers * local // (local + glob)
    return None


class ModelArch(_Frozen):
    """Architecture facts of a decoder-only LLM, as in its Hugging Face ``config.json``."""

    id: str
    model_type: str | None = None
    hidden_size: int = Field(gt=0)
    num_hidden_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int = Field(gt=0)
    head_dim: int | None = Field(default=None, gt=0, description="None for MLA models")
    intermediate_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    max_position_embeddings: int | None = None
    tie_word_embeddings: bool = False
    gated_mlp: bool = True
    # MoE
    num_experts: int | None = None
    num_experts_per_tok: int | None = None
    moe_intermediate_size: int | None = None
    num_shared_experts: int | None = None
    first_k_dense_replace: int | None = None
    # MLA (DeepSeek-V2/V3)
    kv_lora_rank: int | None = None
    q_lora_rank: int | None = None
    qk_rope_head_dim: int | None = None
    qk_nope_head_dim: int | None = None
    v_head_dim: int | None = None
    # Sliding window: `sliding_window_layers` None means every layer uses the window when one is set.
    sliding_window: int | None = None
    sliding_window_layers: int | None = None
    stated_params: int | None = Field(default=None, description="exact count from the HF Hub, for checks")

    @model_validator(mode="after")
    def _check(self) -> ModelArch:
        if self.kv_lora_rank is None and self.head_dim is None:
            raise InvalidConfigError(f"{self.id}: head_dim is required unless the model uses MLA")
        if self.num_attention_heads % self.num_key_value_heads != 0 and not self.is_mla:
            raise InvalidConfigError(f"{self.id}: attention heads must be a multiple of the KV heads")
        return self

    @property
    def is_moe(self) -> bool:
        return bool(self.num_experts and self.num_experts > 1)

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def attn_head_dim(self) -> int:
        """Per-head q/k width used for attention FLOPs."""
        if self.is_mla:
            return (self.qk_nope_head_dim or 0) + (self.qk_rope_head_dim or 0)
        assert self.head_dim is not None
        return self.head_dim

    @property
    def n_sliding_layers(self) -> int:
        if not self.sliding_window:
            return 0
        if self.sliding_window_layers is None:
            return self.num_hidden_layers
        return min(self.sliding_window_layers, self.num_hidden_layers)

    @classmethod
    def from_hf_config(cls, config: dict[str, Any], model_id: str | None = None) -> ModelArch:
        """Build from a Hugging Face ``config.json`` dict (multimodal configs use their text_config)."""
        cfg = dict(config)
        if "text_config" in cfg and isinstance(cfg["text_config"], dict):
            text = dict(cfg["text_config"])
            for key in ("tie_word_embeddings", "_name_or_path"):
                text.setdefault(key, cfg.get(key))
            cfg = {**text, "model_type": text.get("model_type") or cfg.get("model_type")}
        try:
            hidden = int(cfg.get("hidden_size") or cfg.get("n_embd") or cfg["d_model"])
            layers = int(cfg.get("num_hidden_layers") or cfg.get("n_layer") or cfg["num_layers"])
            heads = int(cfg.get("num_attention_heads") or cfg.get("n_head") or cfg["num_heads"])
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidConfigError(
                f"config.json lacks a core field ({e}); "
                "need hidden_size, num_hidden_layers, num_attention_heads"
            ) from e
        model_type = cfg.get("model_type")
        kv_heads = cfg.get("num_key_value_heads") or cfg.get("num_kv_heads")
        if kv_heads is None and model_type == "falcon" and cfg.get("new_decoder_architecture"):
            kv_heads = cfg.get("num_kv_heads")
        if kv_heads is None and cfg.get("multi_query"):
            kv_heads = 1
        kv_lora = cfg.get("kv_lora_rank")
        head_dim = cfg.get("head_dim")
        if head_dim is None and kv_lora is None:
            head_dim = hidden // heads
        inter = cfg.get("intermediate_size") or cfg.get("n_inner") or cfg.get("ffn_hidden_size") or 4 * hidden
        num_experts = (
            cfg.get("num_local_experts")
            or cfg.get("n_routed_experts")
            or cfg.get("num_experts")
            or cfg.get("moe_num_experts")
        )
        shared = cfg.get("n_shared_experts") or cfg.get("num_shared_experts")
        if shared is None and model_type == "llama4":
            shared = 1
        window = cfg.get("sliding_window")
        if cfg.get("use_sliding_window") is False:
            window = None
        pattern: Any = cfg.get("layer_types") or cfg.get("sliding_window_pattern")
        if isinstance(pattern, list) and not any("sliding" in str(t) for t in pattern):
            window = None
        sliding_layers = sliding_layers_from_pattern(pattern, layers, model_type) if window else None
        name = model_id or cfg.get("_name_or_path") or model_type or "custom-model"
        return cls(
            id=str(name),
            model_type=model_type,
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=int(kv_heads or heads),
            head_dim=int(head_dim) if head_dim else None,
            intermediate_size=int(inter),
            vocab_size=int(cfg.get("vocab_size") or 32000),
            max_position_embeddings=_int_or_none(cfg.get("max_position_embeddings")),
            tie_word_embeddings=bool(cfg.get("tie_word_embeddings") or False),
            gated_mlp=model_type not in _UNGATED_MLP_TYPES,
            num_experts=_int_or_none(num_experts),
            num_experts_per_tok=_int_or_none(cfg.get("num_experts_per_tok") or cfg.get("experts_per_token")),
            moe_intermediate_size=_int_or_none(cfg.get("moe_intermediate_size")),
            num_shared_experts=_int_or_none(shared),
            first_k_dense_replace=_int_or_none(cfg.get("first_k_dense_replace")),
            kv_lora_rank=_int_or_none(kv_lora),
            q_lora_rank=_int_or_none(cfg.get("q_lora_rank")),
            qk_rope_head_dim=_int_or_none(cfg.get("qk_rope_head_dim")),
            qk_nope_head_dim=_int_or_none(cfg.get("qk_nope_head_dim")),
            v_head_dim=_int_or_none(cfg.get("v_head_dim")),
            sliding_window=_int_or_none(window),
            sliding_window_layers=sliding_layers,
        )


Interconnect = Literal["nvlink", "pcie", "xgmi", "none"]


class GpuSpec(_Frozen):
    """Datasheet facts of one accelerator (dense tensor-core peaks)."""

    id: str
    aliases: tuple[str, ...] = ()
    vendor: str = "NVIDIA"
    family: str = Field(default="unknown", description="hopper, ampere, ada, blackwell, cdna3, ...")
    memory_gb: float = Field(gt=0)
    mem_bw_tb_s: float = Field(gt=0)
    bf16_tflops: float | None = None
    fp16_tflops: float | None = None
    fp8_tflops: float | None = None
    int8_tops: float | None = None
    interconnect: Interconnect = "pcie"
    interconnect_gb_s: float = Field(default=32.0, gt=0, description="per GPU, per direction")
    tdp_w: float | None = None

    def tensor_tflops(self, precision: str) -> float:
        """Dense peak for the GEMM precision actually used (falls back to 16-bit where unsupported)."""
        half = self.bf16_tflops or self.fp16_tflops
        if half is None:
            # No published tensor figure (A10G): assume a bandwidth-proportional Ampere-like ratio.
            half = 125.0 * self.mem_bw_tb_s / 0.6 / 2.0
        if precision == "fp8" and self.fp8_tflops:
            return self.fp8_tflops
        if precision == "int8" and self.int8_tops:
            return self.int8_tops
        return half


ArrivalProcess = Literal["poisson", "gamma", "constant"]
LengthKind = Literal["fixed", "uniform", "lognormal", "exponential"]


class LengthDist(_Frozen):
    """A token length: fixed, or a distribution with a mean and a coefficient of variation."""

    mean: float = Field(gt=0)
    kind: LengthKind = "fixed"
    cv: float = Field(default=0.0, ge=0)
    min: int = Field(default=1, ge=1)
    max: int | None = None

    @classmethod
    def fixed(cls, tokens: int) -> LengthDist:
        if tokens <= 0:
            raise InvalidConfigError(f"token length must be positive, got {tokens}")
        return cls(mean=float(tokens))

    @property
    def upper(self) -> int:
        """A high length used for memory sizing (max, or mean + 3 sd)."""
        if self.max is not None:
            return self.max
        return round(self.mean * (1.0 + 3.0 * self.cv))


class Workload(_Frozen):
    """Traffic against one deployment: closed loop (concurrency) or open loop (request rate)."""

    input_tokens: LengthDist
    output_tokens: LengthDist
    concurrency: int | None = Field(default=None, gt=0)
    request_rate: float | None = Field(default=None, gt=0, description="requests per second")
    arrival: ArrivalProcess = "poisson"
    burstiness: float = Field(default=1.0, gt=0, description="gamma shape: 1 = Poisson, <1 = burstier")
    scenario: Literal["online", "static_batch", "offline", "offline_batch", "burst"] = Field(
        default="online",
        description="online serving; static_batch: all start together (TRT-LLM 0.9 tables); offline: "
        "all requests queued at once (max throughput); offline_batch: `concurrency` equal requests submitted "
        "together and run to completion in waves (vLLM benchmark_throughput); burst: `concurrency` requests "
        "sent at once to a serving engine (vllm bench serve at rate inf): peak throughput",
    )
    prefix_cached_tokens: float = Field(
        default=0.0,
        ge=0,
        description="mean prompt tokens per request served from the prefix cache (a shared system prompt)",
    )

    @model_validator(mode="after")
    def _one_load(self) -> Workload:
        if self.scenario == "online" and (self.concurrency is None) == (self.request_rate is None):
            raise InvalidConfigError("give exactly one of concurrency or request_rate")
        if self.scenario != "online" and self.concurrency is None:
            raise InvalidConfigError(f"scenario {self.scenario} needs concurrency (the batch size)")
        return self

    @classmethod
    def fixed(
        cls,
        input_tokens: int,
        output_tokens: int,
        *,
        concurrency: int | None = None,
        request_rate: float | None = None,
        scenario: Literal["online", "static_batch", "offline", "offline_batch", "burst"] = "online",
    ) -> Workload:
        if scenario == "online" and (concurrency is None) == (request_rate is None):
            raise InvalidConfigError("give exactly one of concurrency or request_rate")
        return cls(
            input_tokens=LengthDist.fixed(input_tokens),
            output_tokens=LengthDist.fixed(output_tokens),
            concurrency=concurrency,
            request_rate=request_rate,
            scenario=scenario,
        )


class RunConditions(_Frozen):
    """How a benchmark was run, where it differs from a default deployment (used to replay published rows).

    A planner prediction leaves these at their defaults: the engine's current calibrated stack.
    """

    stack: str | None = Field(default=None, description="calibrated software stack, e.g. 'trtllm-0.9'")
    eager: bool = Field(default=False, description="--enforce-eager: no CUDA/HIP graphs")
    degenerate_routing: bool = Field(
        default=False, description="random (fake) weights route every token to the same top-k experts"
    )
    n_prompts: int | None = Field(default=None, gt=0, description="finite open-loop run length")
    kv_dtype_bytes: float | None = Field(default=None, gt=0, description="KV cache bytes per element")
    mha_fallback: bool = Field(
        default=False, description="grouped queries served by a multi-head attention kernel (rereads KV)"
    )
    client: str | None = Field(
        default=None, description="measurement source whose benchmark client adds per-request time"
    )


class Stats(_Frozen):
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float

    @classmethod
    def constant(cls, value: float) -> Stats:
        return cls(mean=value, p50=value, p90=value, p95=value, p99=value)

    def scaled(self, factor: float) -> Stats:
        return Stats(
            mean=self.mean * factor,
            p50=self.p50 * factor,
            p90=self.p90 * factor,
            p95=self.p95 * factor,
            p99=self.p99 * factor,
        )


class PredictionInterval(_Frozen):
    """80% intervals. Throughput: of the capacity in an open loop (the offered rate itself is not uncertain),
    of the delivered throughput otherwise."""

    ttft_ms: tuple[float, float]
    tpot_ms: tuple[float, float]
    output_tokens_per_s: tuple[float, float]


class Prediction(_Frozen):
    """What the model predicts for one (model, GPU, TP, precision, engine, workload)."""

    fits: bool
    reason: str | None = None
    ttft_ms: Stats | None = None
    itl_ms: Stats | None = None
    tpot_ms: Stats | None = None
    e2e_ms: Stats | None = None
    output_tokens_per_s: float | None = None
    requests_per_s: float | None = None
    max_concurrency: int = 0
    kv_cache_tokens: int = 0
    saturated: bool = False
    basis: Basis = "estimated"
    interval: PredictionInterval | None = None
    corrected_by_outcomes: int = 0
    capacity_output_tokens_per_s: float | None = Field(
        default=None, description="output tokens/s the configuration serves at most (open-loop capacity)"
    )
    mean_batch: float | None = Field(
        default=None, description="mean sequences decoding per engine step (open loop: from the fixed point)"
    )
    engine_stack: str | None = Field(
        default=None, description="calibrated software stack the prediction used"
    )
    step_basis: str | None = Field(
        default=None,
        description="source of the step times' efficiencies: fitted, measured kernels or roofline fallback",
    )
    evidence: str | None = Field(
        default=None,
        description="what the interval rests on: measured, unmeasured model, unmeasured GPU or prior stack",
    )
