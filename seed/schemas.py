"""Row schemas for every seedable kind.

These are the contract between the curated files in ``seed/data/``, admin-supplied JSON/CSV files and the
database. Every row that enters the knowledge base is validated against one of these models first, so a bad
row is reported with its field and reason before anything is written.

Provenance rules:
- ``source`` fields name where a number was read (an id from a sources list, or a URL).
- ``judgements`` hold Preflight's own calls (supported tasks, domains, approval, quality tiers where nothing
  is published). Each judgement carries a reason, and they are never presented as measured.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.intent.schema import (  # the one definition of each category
    BurstinessPattern,
    DeploymentModel,
    Priority,
    TaskType,
)

SeedKind = Literal["models", "gpus", "prices", "benchmarks", "usecases", "examples"]
SEED_KINDS: tuple[SeedKind, ...] = ("models", "gpus", "prices", "benchmarks", "usecases", "examples")


Precision = Literal["bf16", "fp16", "fp8", "fp4", "mxfp4", "int8", "int4"]
PriceKind = Literal["on_demand", "spot", "reserved_1y", "reserved_3y", "list_per_gpu_hour", "purchase"]
ModelRole = Literal["recommendable", "reference"]


def _nul_free(value: Any, path: str = "") -> None:
    """Postgres text cannot hold NUL: refuse it here, naming the field, instead of failing in the driver."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path or 'value'}: text must not contain NUL (\\u0000) characters")
    elif isinstance(value, dict):
        for k, v in value.items():
            _nul_free(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _nul_free(v, f"{path}[{i}]")


class _Row(BaseModel):
    # Infinity and NaN are refused in every number (JSON and CSV both can spell them).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        _nul_free(data)
        return data


class Judgement(_Row):
    """A value Preflight decided itself, with the reason. Never a measurement."""

    value: Any
    reason: str = Field(min_length=3)
    by: Literal["preflight"] = "preflight"


class QualityScore(_Row):
    """One published score, as catalog/quality_scores.json prints it (compare within benchmark + source)."""

    benchmark: str
    score: float
    setting: str | None = None
    source: str | None = None
    family: str | None = Field(default=None, description="Task family of the benchmark")
    higher_is_better: bool = True
    base_checkpoint: bool = False
    notes: str | None = None


class CheckpointRow(_Row):
    """A published checkpoint that serves one precision of a model."""

    precision: Precision
    repo: str = Field(pattern=r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
    format: Literal["bf16", "fp8", "awq", "gptq", "mxfp4", "compressed-tensors"]
    publisher: str
    official: bool
    source: str
    note: str = ""


class ModelRow(_Row):
    """A model in the catalog: architecture facts from its config.json, card facts, and judgements."""

    hf_id: str = Field(min_length=3, pattern=r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
    family: str
    role: ModelRole = "recommendable"
    approved: bool = True
    aliases: list[str] = Field(default_factory=list)
    architecture: str | None = None
    model_type: str | None = None
    hidden_size: int = Field(gt=0)
    num_hidden_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int = Field(gt=0)
    head_dim: int | None = Field(default=None, gt=0)
    intermediate_size: int | None = Field(default=None, gt=0)
    moe_intermediate_size: int | None = Field(default=None, gt=0)
    vocab_size: int | None = Field(default=None, gt=0)
    max_position_embeddings: int = Field(gt=0)
    tie_word_embeddings: bool | None = None
    torch_dtype: str | None = None
    num_experts: int | None = Field(default=None, gt=0)
    num_experts_per_tok: int | None = Field(default=None, gt=0)
    num_shared_experts: int | None = Field(default=None, ge=0)
    first_k_dense_replace: int | None = Field(default=None, ge=0)
    kv_lora_rank: int | None = Field(default=None, gt=0)
    q_lora_rank: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    qk_nope_head_dim: int | None = Field(default=None, gt=0)
    v_head_dim: int | None = Field(default=None, gt=0)
    sliding_window: int | None = Field(default=None, gt=0)
    sliding_window_pattern: int | list[Any] | str | None = None
    checkpoint_quantization: Any = None
    params_total_b: float | None = Field(default=None, gt=0, description="As stated on the card")
    params_active_b: float | None = Field(default=None, gt=0, description="As stated on the card")
    params_computed_b: float | None = Field(
        default=None, gt=0, description="Computed by Preflight from the architecture"
    )
    hf_safetensors_params: int | None = Field(default=None, gt=0)
    context_window_tokens: int | None = Field(default=None, gt=0)
    license: str | None = None
    supported_tasks: list[TaskType] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    precisions: list[Precision] = Field(default_factory=lambda: list[Precision](["bf16", "fp8"]))
    quality: list[QualityScore] = Field(default_factory=list)
    checkpoints: list[CheckpointRow] = Field(
        default_factory=list, description="Published quantised repos vLLM loads (seed/checkpoints.py)"
    )
    config: dict[str, Any] = Field(default_factory=dict, description="Other config.json keys (rope etc.)")
    source: dict[str, Any] = Field(default_factory=dict, description="Where each fact was read")
    judgements: dict[str, Judgement] = Field(default_factory=dict)
    notes: str | list[str] | None = None

    @model_validator(mode="after")
    def _check_heads(self) -> ModelRow:
        if self.num_attention_heads % self.num_key_value_heads != 0:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        return self


class GpuRow(_Row):
    """A GPU profile with datasheet figures (dense tensor throughput) and the aliases it answers to."""

    id: str = Field(min_length=2, pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
    vendor: str
    architecture: str | None = None
    aliases: list[str] = Field(default_factory=list)
    k8s_product_label: str | None = Field(default=None, description="nvidia.com/gpu.product value")
    memory_gb: float = Field(gt=0)
    memory_type: str | None = None
    mem_bw_tb_s: float = Field(gt=0)
    bf16_tflops: float | None = Field(default=None, gt=0, description="Dense")
    fp16_tflops: float | None = Field(default=None, gt=0, description="Dense")
    fp8_tflops: float | None = Field(default=None, gt=0, description="Dense")
    int8_tops: float | None = Field(default=None, gt=0, description="Dense")
    interconnect: Literal["nvlink", "pcie", "xgmi", "nvlink-c2c"] = "pcie"
    interconnect_gb_s: float | None = Field(default=None, gt=0, description="Bidirectional per GPU")
    form_factor: str | None = None
    tdp_w: float | None = Field(default=None, gt=0)
    source: dict[str, Any] = Field(default_factory=dict)
    judgements: dict[str, Judgement] = Field(default_factory=dict)
    notes: str | list[str] | None = None


class PriceRow(_Row):
    gpu: str = Field(description="A GPU id or alias; resolved to the catalog id on load")
    kind: PriceKind
    provider: str
    region: str | None = None
    instance_type: str | None = None
    gpus_per_instance: int | None = Field(default=None, gt=0)
    usd_per_instance_hour: float | None = Field(default=None, gt=0)
    usd_per_gpu_hour: float | None = Field(default=None, gt=0)
    usd_per_gpu_hour_derived: bool = False
    usd_purchase: float | None = Field(default=None, gt=0)
    usd_purchase_high: float | None = Field(default=None, gt=0)
    excludes_host: bool = Field(default=False, description="Price covers the GPU only, not the host VM")
    server_power_w: float | None = Field(
        default=None, gt=0, description="Whole-server power (purchase rows of a multi-GPU server)"
    )
    date: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    source: str
    source_url: str | None = None
    notes: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @model_validator(mode="after")
    def _has_price(self) -> PriceRow:
        if self.kind == "purchase":
            if self.usd_purchase is None:
                raise ValueError("a purchase row needs usd_purchase")
        elif self.usd_per_gpu_hour is None and self.usd_per_instance_hour is None:
            raise ValueError("an hourly row needs usd_per_gpu_hour or usd_per_instance_hour")
        if (
            self.usd_per_gpu_hour is None
            and self.usd_per_instance_hour is not None
            and self.gpus_per_instance is None
        ):
            raise ValueError("usd_per_instance_hour without gpus_per_instance gives no per-GPU price")
        return self

    def per_gpu_hour(self) -> float | None:
        if self.usd_per_gpu_hour is not None:
            return self.usd_per_gpu_hour
        if self.usd_per_instance_hour is not None and self.gpus_per_instance:
            return self.usd_per_instance_hour / self.gpus_per_instance
        return None


class BenchmarkRow(BaseModel):
    """One published or observed serving measurement. Unknown extra columns are kept in ``extra``."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    source: str
    model: str = Field(description="Model id or alias; resolved to the catalog id on load")
    gpu: str = Field(description="GPU id or alias; resolved to the catalog id on load")
    gpu_count: int = Field(ge=1)
    tp: int = Field(ge=1)
    pp: int | None = Field(default=None, ge=1)
    engine: str
    precision: str
    input_tokens: float | None = Field(default=None, gt=0)
    output_tokens: float | None = Field(default=None, gt=0)
    concurrency: float | None = Field(default=None, gt=0)
    request_rate: float | None = Field(default=None, gt=0)
    batch_size: float | None = Field(default=None, gt=0)
    ttft_ms_mean: float | None = Field(default=None, ge=0)
    ttft_ms_p50: float | None = Field(default=None, ge=0)
    ttft_ms_p90: float | None = Field(default=None, ge=0)
    ttft_ms_p95: float | None = Field(default=None, ge=0)
    ttft_ms_p99: float | None = Field(default=None, ge=0)
    itl_ms_mean: float | None = Field(default=None, ge=0)
    itl_ms_p50: float | None = Field(default=None, ge=0)
    itl_ms_p95: float | None = Field(default=None, ge=0)
    tpot_ms_mean: float | None = Field(default=None, ge=0)
    tpot_ms_p50: float | None = Field(default=None, ge=0)
    tpot_ms_p99: float | None = Field(default=None, ge=0)
    e2e_latency_ms_mean: float | None = Field(default=None, ge=0)
    e2e_latency_ms_p95: float | None = Field(default=None, ge=0)
    output_tokens_per_s: float | None = Field(default=None, ge=0)
    output_tokens_per_s_per_gpu: float | None = Field(default=None, ge=0)
    requests_per_s: float | None = Field(default=None, ge=0)
    gpu_peak_memory_gb: float | None = Field(default=None, ge=0)
    collected: str | None = None
    notes: str | None = None
    model_variant: str | None = None


class UseCaseRow(_Row):
    """A use-case template: default SLOs and traffic shape. The embedding is computed on load."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    task_type: TaskType
    name: str
    description: str = Field(min_length=10)
    examples: list[str] = Field(default_factory=list, description="Phrases people use; embedded too")
    ttft_p90_ms: float = Field(gt=0)
    tpot_p90_ms: float = Field(gt=0)
    e2e_p95_ms: float = Field(gt=0)
    quality: Literal["standard", "high", "very_high"] = "high"
    reliability_pct: float = Field(default=99.9, gt=0, le=100)
    prompt_length_avg: int = Field(gt=0)
    prompt_length_p95: int | None = Field(default=None, gt=0)
    generation_length_avg: int = Field(gt=0)
    generation_length_p95: int | None = Field(default=None, gt=0)
    burstiness: Literal["steady", "low", "moderate", "high", "diurnal"] = "moderate"
    active_fraction: float = Field(gt=0, le=1, description="Share of users active at once")
    requests_per_active_user_per_minute: float = Field(gt=0)
    peak_multiplier: float = Field(ge=1)
    streaming: bool = True
    source: str = Field(description="Where the defaults come from (seed design, or a Preflight judgement)")
    reason: str | None = Field(default=None, description="Why Preflight chose these defaults")


class ExampleRow(_Row):
    """A labelled example sentence for one categorical intent field (k-NN); embedded on load."""

    field: Literal["task_type", "priority", "subject_matter", "deployment_model", "burstiness_pattern"]
    label: str = Field(min_length=1, max_length=80, description="The field's value, or 'none'")
    text: str = Field(min_length=1, max_length=2000)
    source: str | None = Field(default=None, max_length=200, description="Who wrote or labelled it")

    @model_validator(mode="after")
    def _label_fits_field(self) -> ExampleRow:
        allowed = {
            "task_type": get_args(TaskType),
            "priority": get_args(Priority),
            "deployment_model": get_args(DeploymentModel),
            "burstiness_pattern": get_args(BurstinessPattern),
        }.get(self.field)
        if allowed is not None and self.label != "none" and self.label not in allowed:
            raise ValueError(
                f"label {self.label!r} is not a {self.field}; use one of {', '.join(allowed)} or none"
            )
        return self


ROW_MODELS: dict[SeedKind, type[BaseModel]] = {
    "models": ModelRow,
    "gpus": GpuRow,
    "prices": PriceRow,
    "benchmarks": BenchmarkRow,
    "usecases": UseCaseRow,
    "examples": ExampleRow,
}
