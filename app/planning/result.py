"""The recommendation result: the contract between the recommender, the chat, the API and deployment.

``preflight recommend --json`` prints a ``RecommendationResult``; ``POST /api/recommendations`` returns one;
the chat renders its options as cards; a deployment starts from one of its options. Keep changes additive.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.perf.types import PredictionInterval, Stats

Basis = Literal["measured", "interpolated", "estimated"]
Verdict = Literal["meets", "misses", "uncertain"]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrafficDerivation(_M):
    """Why the planner sized for this load ("why 40 QPS?")."""

    steady_qps: float
    peak_qps: float
    prompt_tokens_avg: int
    output_tokens_avg: int
    arrival: Literal["poisson", "gamma"] = Field(description="Arrival process used at peak")
    burstiness_cv: float = Field(description="Coefficient of variation of inter-arrival times at peak")
    explanation: list[str] = Field(description="One line per step, in words and numbers")
    reading: Literal["concurrent", "daily", "total", "batch", "rate"] = Field(
        default="rate", description="How the load was stated: a kind of user count, a batch job, or a rate"
    )
    load_assumed: bool = Field(
        default=False,
        description="No user count, request rate or batch job was stated: the load is the template's "
        "assumption",
    )
    peak_qps_low: float | None = Field(default=None, description="Low end of the plausible peak")
    peak_qps_high: float | None = Field(default=None, description="High end of the plausible peak")
    peak_hours_per_day: float = Field(
        default=24.0,
        description="Hours a day the peak replica count runs (blended cost); 24 = always at peak",
    )


class SloCheck(_M):
    """One SLO target against its prediction at the target's percentile."""

    metric: Literal["ttft_p90_ms", "tpot_p90_ms", "e2e_p95_ms", "throughput_rps"]
    target: float
    predicted: float
    interval: tuple[float, float] | None = Field(default=None, description="80% interval of the prediction")
    verdict: Verdict = Field(description="'uncertain' when the interval straddles the target")


class PriceUsed(_M):
    """A price row a cost was computed from, so every number can be traced."""

    price_id: int | None = None
    gpu: str
    kind: str
    provider: str
    region: str | None = None
    instance_type: str | None = None
    usd_per_gpu_hour: float | None = None
    usd_purchase: float | None = None
    date: str | None = None
    source: str
    excludes_host: bool = False


class Cost(_M):
    deployment_model: Literal["cloud_rental", "owned_hardware", "purchase"]
    hourly_usd: float = Field(description="All replicas at the steady (min) replica count")
    monthly_usd: float = Field(
        description="A month of 730 h blended over the day: peak hours at the peak count, the rest at the "
        "floor (batch: the monthly batch cost)"
    )
    monthly_usd_at_peak: float | None = Field(
        default=None, description="If the peak replica count ran all month"
    )
    per_1k_tokens_usd: float | None = Field(default=None, description="At expected (steady) load")
    capex_usd: float | None = Field(default=None, description="Purchase price of the GPUs (purchase)")
    tco_usd: float | None = Field(
        default=None, description="Capex + power + space over the amortisation period"
    )
    break_even_month: float | None = Field(default=None, description="When buying beats renting (purchase)")
    power_monthly_usd: float | None = None
    nodes: int | None = Field(default=None, description="Servers bought (purchase)")
    gpus_per_node: int | None = Field(default=None, description="GPUs per server bought (purchase)")
    node_usd: float | None = Field(default=None, description="Price of one server, host included (purchase)")
    opex_monthly_usd: float | None = Field(
        default=None, description="Energy, colocation, support and operations per month (purchase)"
    )
    idle_owned_gpus: int | None = Field(default=None, description="Owned GPUs this option leaves free")
    assumptions: list[str] = Field(
        default_factory=list, description="Owned/purchase assumptions (power price, PUE, support, ...)"
    )
    provider: str | None = Field(
        default=None, description="Where the price comes from (cheapest if not chosen)"
    )
    price_class: Literal["hyperscaler", "mainstream", "marketplace"] | None = Field(
        default=None, description="Class of the price source used"
    )
    usd_per_gpu_hour: float | None = Field(default=None, description="Price used per GPU-hour, host included")
    price_low: float | None = Field(default=None, description="Cheapest trusted source, $/GPU-hour")
    price_median: float | None = Field(default=None, description="Median trusted source, $/GPU-hour")
    price_high: float | None = Field(default=None, description="Dearest trusted source, $/GPU-hour")
    price_dates: str | None = Field(default=None, description="Oldest to newest date of those sources")
    peak_hours_per_day: float | None = Field(
        default=None, description="Hours a day at the peak count in the blended monthly cost"
    )
    marketplace_monthly_usd: float | None = Field(
        default=None, description="The same configuration at marketplace/spot prices, when cheaper (risky)"
    )
    batch_gpu_hours_per_run: float | None = Field(default=None, description="Batch: GPU-hours one run takes")
    batch_hours_per_run: float | None = Field(
        default=None, description="Batch: wall-clock hours one run holds the GPUs, cold start included"
    )
    batch_cold_start_hours: float | None = Field(
        default=None, description="Batch: scale-from-zero start-up plus loading the weights, per run"
    )
    batch_usd_per_run: float | None = Field(
        default=None, description="Batch: cost of one run (scale to zero)"
    )
    batch_monthly_usd: float | None = Field(default=None, description="Batch: runs per month × cost per run")
    always_on_monthly_usd: float | None = Field(
        default=None, description="Batch: the same GPUs left running all month"
    )
    region: str | None = None
    prices: list[PriceUsed] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="e.g. 'GPU-only price: host VM not included'")


class Quality(_M):
    index: float = Field(
        ge=0, le=100, description="Preflight's 0-100 quality index for the task (0: unknown)"
    )
    basis: Literal["published", "estimated", "unknown"] = Field(
        description="published: from comparable scores; unknown: none (never estimated from size)"
    )
    detail: str = Field(description="Which scores it comes from")
    task: str | None = Field(default=None, description="The task the index is for")
    families: dict[str, float] = Field(
        default_factory=dict, description="0-100 per task family used (general, coding, ...)"
    )
    sources: list[str] = Field(default_factory=list, description="Score sources (catalog QUALITY.md ids)")
    below_reference: str | None = Field(
        default=None, description="e.g. 'lower quality than Llama-3.1-70B-Instruct (52 < 68)'"
    )


class Checkpoint(_M):
    """The weights a configuration loads, and why they exist (``app/planning/feasibility.py``)."""

    repo: str = Field(description="Hugging Face repo vLLM is pointed at (--model)")
    precision: str
    format: str = Field(description="bf16 | fp16 | fp8 | awq | gptq | mxfp4 | compressed-tensors")
    quantization: str | None = Field(
        default=None, description="--quantization, only for online quantisation (fp8 of a bf16 repo)"
    )
    how: str = Field(description="e.g. 'published by the model authors (Qwen)'")
    source: str | None = None


class Alternative(_M):
    """A faster (dearer) variant of an option's model: what the extra money buys."""

    gpu_id: str
    precision: str
    tp: int
    gpus_total: int
    monthly_usd: float
    extra_monthly_usd: float
    ttft_p90_ms: float
    tpot_p90_ms: float
    e2e_p95_ms: float
    buys: str = Field(description="What the extra money buys, in words")
    evaluation: Literal["full", "screened"] = "full"


class Option(_M):
    """One ranked deployment configuration."""

    rank: int = Field(ge=1)
    model_id: str
    model_family: str | None = None
    gpu_id: str
    precision: str
    engine: str = "vllm"
    tp: int = Field(ge=1)
    replicas: int = Field(ge=1, description="Replicas needed at peak, including headroom")
    min_replicas: int = Field(ge=1, description="Autoscaling lower bound (steady load + headroom)")
    max_replicas: int = Field(ge=1, description="Autoscaling upper bound")
    gpus_total: int = Field(ge=1, description="tp × replicas")
    headroom: str = Field(description="e.g. 'N+1 for 99.9%'")
    ttft_ms: Stats
    tpot_ms: Stats
    itl_ms: Stats | None = None
    e2e_ms: Stats
    output_tokens_per_s: float = Field(description="Per replica at peak load")
    requests_per_s_capacity: float = Field(description="Per replica, the most it sustains within the SLOs")
    basis: Basis
    interval: PredictionInterval | None = None
    slo_checks: list[SloCheck]
    cost: Cost
    quality: Quality
    max_concurrency: int = Field(description="Largest concurrent sequence count per replica")
    kv_cache_tokens: int
    checkpoint: Checkpoint | None = Field(default=None, description="The weights this option loads")
    vllm_args: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "max_model_len, max_num_seqs, max_num_batched_tokens, gpu_memory_utilization, quantization"
        ),
    )
    rationale: str = Field(description="One paragraph in plain words: why this option, and its trade-offs")
    similar_outcomes: str | None = Field(
        default=None, description="e.g. '3 similar deployments ran at 85-92% of predicted throughput'"
    )
    corrected_by_outcomes: int = 0
    verdict: Verdict = Field(
        default="meets", description="Worst SLO verdict: 'uncertain' when an interval straddles a target"
    )
    evaluation: Literal["full", "screened"] = Field(
        default="full", description="full: percentile model; screened: closed-form means only (viable list)"
    )
    utilization_at_peak: float | None = Field(
        default=None, description="Peak load over the replicas' saturation throughput (spares included)"
    )
    slo_headroom: float | None = Field(
        default=None, description="How much the peak load can grow before the SLOs break (1.0 = 2×)"
    )
    alternatives: list[Alternative] = Field(
        default_factory=list, description="Faster variants of this model, with what the extra money buys"
    )
    vs_cheaper: str | None = Field(
        default=None, description="Why this option beats the next cheaper one, and what was traded"
    )
    flags: list[str] = Field(default_factory=list, description="e.g. 'over budget if the peak ran all month'")


class Rejected(_M):
    model_id: str
    gpu_id: str | None = None
    precision: str | None = None
    tp: int | None = None
    reason: str = Field(description="e.g. 'needs 8 GPUs to fit; predicted TTFT p90 1.4 s > 300 ms target'")


class Relaxation(_M):
    """What to loosen when nothing meets the constraints, and what it would buy."""

    field: str
    current: Any
    suggested: Any
    effect: str


class RecommendationResult(_M):
    recommendation_id: str | None = None
    specification: dict[str, Any]
    traffic: TrafficDerivation
    options: list[Option]
    rejected: list[Rejected] = Field(default_factory=list)
    pareto: list[int] = Field(
        default_factory=list, description="Ranks of options on the cost / latency / quality Pareto front"
    )
    viable: list[Option] = Field(
        default_factory=list,
        description="Every option that met the constraints (for plots), beyond the top ones",
    )
    relax: list[Relaxation] = Field(default_factory=list)
    message: str | None = Field(default=None, description="e.g. 'nothing meets these constraints'")
    nearest_misses: list[Rejected] = Field(
        default_factory=list, description="When nothing fits: the candidates closest to meeting everything"
    )
    rejected_count: int = Field(default=0, description="(model, GPU) pairs rejected; `rejected` lists some")
    candidates_considered: int = Field(default=0, description="model × GPU × precision × TP configurations")
    timings_ms: dict[str, float] = Field(default_factory=dict)
