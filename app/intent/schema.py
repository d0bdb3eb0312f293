"""Stage-1 contracts: what a person asked for, and the editable specification resolved from it.

Other stages build on these types; keep them stable.

- :class:`DeploymentIntent` holds only what the person *stated or clearly implied*, with the seed design's
  field names. It is flat except ``budget`` (:class:`Budget`) and ``datacenter_context``
  (:class:`DatacenterContext`). Unstated fields are ``None``; defaults never live here. Model names are
  Hugging Face ids from the catalog and GPU names are catalog GPU ids (see ``app.intent.vocabulary``).
- :class:`Specification` is the resolved, editable review object: the intent's values, filled from a
  use-case template where unstated. ``spec.origins[field]`` says for every set field whether it was
  ``stated`` by the person, taken from a ``template``, or ``edited`` afterwards; ``spec.notes[field]``
  explains derived values. Use :meth:`Specification.edit` to change a field (it re-validates the bounds).
- :class:`TrafficProfile` and :class:`SLOTargets` are the plain, fully-resolved views of a Specification
  that the planner consumes (``spec.traffic_profile()``, ``spec.slo_targets()``).
- :func:`users_to_qps` is the single place where a user population becomes steady and peak load. It
  returns a :class:`QpsEstimate` whose ``explanation`` answers "why 40 QPS?". Never copy its arithmetic.

Every numeric field carries bounds, shared through the ``Annotated`` aliases below, so no extractor (rules or
LLM) and no edit can put a value outside them: a violation is a pydantic ``ValidationError`` naming the
field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TaskType = Literal[
    "chatbot",
    "code_completion",
    "code_generation",
    "summarization",
    "rag_qa",
    "translation",
    "content_generation",
    "batch_processing",
]
Priority = Literal["latency", "cost", "accuracy", "balanced"]
BurstinessPattern = Literal["steady", "low", "moderate", "high", "diurnal"]
QualityThreshold = Literal["standard", "high", "very_high"]
DeploymentModel = Literal["cloud_rental", "owned_hardware", "purchase"]
Origin = Literal["stated", "template", "edited"]

TASK_TYPES: tuple[str, ...] = get_args(TaskType)
PRIORITIES: tuple[str, ...] = get_args(Priority)

# --- bounded value types, shared by the intent and the specification ----------------------------------
# Bounds are generous (they reject nonsense, not unusual deployments).
MAX_USERS = 100_000_000
Users = Annotated[int, Field(ge=1, le=MAX_USERS)]
Qps = Annotated[float, Field(gt=0, le=1_000_000)]
PromptTokens = Annotated[int, Field(ge=1, le=2_000_000)]
GenerationTokens = Annotated[int, Field(ge=1, le=200_000)]
TtftMs = Annotated[float, Field(gt=0, le=600_000)]
TpotMs = Annotated[float, Field(gt=0, le=10_000)]
E2eMs = Annotated[float, Field(gt=0, le=3_600_000)]
ReliabilityPct = Annotated[float, Field(ge=50, le=100)]
MonthlyUsd = Annotated[float, Field(gt=0, le=1e9)]
HourlyUsd = Annotated[float, Field(gt=0, le=1e6)]
GpuCount = Annotated[int, Field(ge=1, le=100_000)]
PowerUsdPerKwh = Annotated[float, Field(gt=0, le=10)]
Pue = Annotated[float, Field(ge=1.0, le=3.0)]
AmortizationMonths = Annotated[int, Field(ge=1, le=240)]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]

DEFAULT_PUE = 1.3
DEFAULT_AMORTIZATION_MONTHS = 36


class _Model(BaseModel):
    # extra="forbid": an LLM (or a client) cannot smuggle in fields nobody validates.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True)


def _dedupe(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


class Budget(_Model):
    """Spending limits the person stated (US dollars)."""

    max_monthly_cost_usd: MonthlyUsd | None = Field(
        default=None, description="Most the deployment may cost per month, in USD."
    )
    max_hourly_cost_usd: HourlyUsd | None = Field(
        default=None, description="Most the deployment may cost per hour, in USD."
    )


class DatacenterContext(_Model):
    """Facts about the person's own datacenter, for owned or purchased hardware."""

    power_cost_per_kwh: PowerUsdPerKwh | None = Field(
        default=None, description="Electricity price in USD per kWh (e.g. 0.12)."
    )
    cooling_overhead_pue: Pue | None = Field(
        default=None, description=f"Power usage effectiveness (1.0-3.0); {DEFAULT_PUE} when unstated."
    )
    amortization_period_months: AmortizationMonths | None = Field(
        default=None,
        description=f"Months over which purchased hardware is written off; {DEFAULT_AMORTIZATION_MONTHS} "
        "when unstated.",
    )


class GpuInventoryItem(_Model):
    """GPUs the person already owns: a catalog GPU id and how many."""

    gpu: Identifier = Field(description="Catalog GPU id, e.g. 'H100-SXM-80GB'.")
    count: GpuCount = Field(description="Number of GPUs of this type that are owned.")


class DeploymentIntent(_Model):
    """What the person stated or clearly implied; ``None`` means not stated (defaults come later)."""

    task_type: TaskType | None = Field(default=None, description="The kind of workload.")
    use_case_description: str | None = Field(
        default=None, max_length=2000, description="The person's own description of the use case."
    )
    subject_matter: str | None = Field(
        default=None, max_length=200, description="Domain of the content, e.g. 'customer support', 'legal'."
    )
    concurrent_users: Users | None = Field(
        default=None,
        description="The user population the person states ('1000 users', '5k employees'); the traffic "
        "model turns it into load through an active fraction.",
    )
    expected_qps: Qps | None = Field(default=None, description="Stated average request rate, per second.")
    prompt_length_avg: PromptTokens | None = Field(default=None, description="Average input tokens.")
    generation_length_avg: GenerationTokens | None = Field(default=None, description="Average output tokens.")
    burstiness_pattern: BurstinessPattern | None = Field(
        default=None, description="Shape of the traffic over time."
    )
    priority: Priority | None = Field(default=None, description="What matters most.")
    budget: Budget | None = Field(default=None, description="Spending limits.")
    target_ttft_p90_ms: TtftMs | None = Field(default=None, description="Time to first token, p90, ms.")
    target_tpot_p90_ms: TpotMs | None = Field(default=None, description="Time per output token, p90, ms.")
    target_e2e_latency_p95_ms: E2eMs | None = Field(
        default=None, description="End-to-end request latency, p95, ms."
    )
    target_throughput_rps: Qps | None = Field(
        default=None, description="Throughput the deployment must sustain, requests per second."
    )
    quality_threshold: QualityThreshold | None = Field(default=None, description="Required output quality.")
    reliability_target: ReliabilityPct | None = Field(
        default=None, description="Availability target in percent, e.g. 99.9."
    )
    preferred_models: list[Identifier] | None = Field(
        default=None, max_length=50, description="Catalog HF ids the person would like (a preference)."
    )
    available_gpus: list[Identifier] | None = Field(
        default=None, max_length=50, description="Catalog GPU ids the person can use (a constraint)."
    )
    excluded_gpus: list[Identifier] | None = Field(
        default=None, max_length=50, description="Catalog GPU ids the person rules out."
    )
    gpu_inventory: list[GpuInventoryItem] | None = Field(
        default=None, max_length=50, description="GPUs the person already owns."
    )
    max_gpus: GpuCount | None = Field(default=None, description="Most GPUs the deployment may use.")
    cloud_provider: str | None = Field(
        default=None, max_length=40, description="Cloud provider, as named in the price catalog (e.g. AWS)."
    )
    region: str | None = Field(default=None, max_length=64, description="Region or area, e.g. 'us-east-1'.")
    deployment_model: DeploymentModel | None = Field(
        default=None, description="Rent in the cloud, use owned hardware, or buy hardware."
    )
    datacenter_context: DatacenterContext | None = Field(
        default=None, description="Power and amortization facts for owned or purchased hardware."
    )

    @field_validator("preferred_models", "available_gpus", "excluded_gpus")
    @classmethod
    def _unique(cls, v: list[str] | None) -> list[str] | None:
        return _dedupe(v) or None

    @field_validator("gpu_inventory")
    @classmethod
    def _nonempty_inventory(cls, v: list[GpuInventoryItem] | None) -> list[GpuInventoryItem] | None:
        return v or None

    @model_validator(mode="after")
    def _consistent_gpus(self) -> DeploymentIntent:
        both = set(self.available_gpus or []) & set(self.excluded_gpus or [])
        if both:
            raise ValueError(f"GPU(s) {sorted(both)} cannot be both available and excluded")
        return self

    def stated(self) -> dict[str, Any]:
        """The stated fields only, as JSON-ready data (what `preflight extract --json` prints)."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        for key in ("budget", "datacenter_context"):
            if key in data and not data[key]:
                del data[key]
        return data

    def stated_paths(self) -> set[str]:
        """Dotted names of the set fields, e.g. {'task_type', 'budget.max_monthly_cost_usd'}."""
        paths: set[str] = set()
        for key, value in self.stated().items():
            if isinstance(value, dict):
                paths.update(f"{key}.{sub}" for sub in value)
            else:
                paths.add(key)
        return paths


class QpsEstimate(_Model):
    """Load derived from a user population, with the arithmetic spelled out for the UI."""

    users: Users = Field(description="The user population.")
    active_fraction: float = Field(gt=0, le=1, description="Share of users active at the same time.")
    requests_per_active_user_per_min: float = Field(
        gt=0, le=600, description="Requests one active user sends per minute."
    )
    peak_multiplier: float = Field(ge=1, le=100, description="Peak load over steady load.")
    active_users: float = Field(ge=0, description="users × active_fraction.")
    steady_qps: float = Field(ge=0, description="Average requests per second.")
    peak_qps: float = Field(ge=0, description="Requests per second at peak.")
    explanation: str = Field(description="One line that shows how the numbers were obtained.")


def users_to_qps(
    users: int,
    *,
    active_fraction: float,
    requests_per_active_user_per_min: float,
    peak_multiplier: float,
) -> QpsEstimate:
    """Turn a user population into steady and peak request rates.

    steady = users × active_fraction × requests_per_active_user_per_min / 60; peak = steady × multiplier.
    Raises pydantic ``ValidationError`` when an input is out of range.
    """
    active = users * active_fraction
    steady = active * requests_per_active_user_per_min / 60.0
    peak = steady * peak_multiplier
    explanation = (
        f"{users:,} users × {active_fraction:.0%} active = {active:,.0f} active users; "
        f"× {requests_per_active_user_per_min:g} requests/min ÷ 60 = {steady:,.2f} QPS steady; "
        f"× {peak_multiplier:g} peak multiplier = {peak:,.2f} QPS peak"
    )
    return QpsEstimate(
        users=users,
        active_fraction=active_fraction,
        requests_per_active_user_per_min=requests_per_active_user_per_min,
        peak_multiplier=peak_multiplier,
        active_users=active,
        steady_qps=steady,
        peak_qps=peak,
        explanation=explanation,
    )


class TrafficProfile(_Model):
    """Concrete traffic the planner sizes for."""

    prompt_length_avg: PromptTokens = Field(description="Average input tokens.")
    generation_length_avg: GenerationTokens = Field(description="Average output tokens.")
    prompt_length_p95: PromptTokens | None = Field(default=None, description="p95 input tokens, if known.")
    generation_length_p95: GenerationTokens | None = Field(
        default=None, description="p95 output tokens, if known."
    )
    steady_qps: Qps = Field(description="Average requests per second.")
    peak_qps: Qps = Field(description="Requests per second at peak (≥ steady).")
    burstiness_pattern: BurstinessPattern = Field(description="Shape of the traffic over time.")
    concurrent_users: Users | None = Field(default=None, description="User population, when known.")
    streaming: bool = Field(default=True, description="Whether responses are streamed token by token.")

    @model_validator(mode="after")
    def _peak_not_below_steady(self) -> TrafficProfile:
        if self.peak_qps < self.steady_qps:
            raise ValueError("peak_qps must be at least steady_qps")
        return self


class SLOTargets(_Model):
    """Latency, throughput, quality and reliability targets the planner must meet."""

    ttft_p90_ms: TtftMs = Field(description="Time to first token, p90, ms.")
    tpot_p90_ms: TpotMs = Field(description="Time per output token, p90, ms.")
    e2e_latency_p95_ms: E2eMs = Field(description="End-to-end latency, p95, ms.")
    throughput_rps: Qps | None = Field(default=None, description="Sustained requests per second.")
    quality_threshold: QualityThreshold = Field(description="Required output quality.")
    reliability_target: ReliabilityPct = Field(description="Availability target in percent.")


# Fields of Specification that carry an origin (everything except bookkeeping).
_BOOKKEEPING = frozenset({"origins", "notes", "template_id", "template_similarity", "qps_derivation"})


class Specification(_Model):
    """The resolved, editable deployment specification.

    Field names match :class:`DeploymentIntent` (budget and datacenter fields are flattened, their leaf names
    are unique). ``origins`` maps every set field to ``stated`` / ``template`` / ``edited``.
    """

    task_type: TaskType = Field(description="The kind of workload.")
    use_case_description: str | None = Field(default=None, max_length=2000, description="Person's words.")
    subject_matter: str | None = Field(default=None, max_length=200, description="Content domain.")
    priority: Priority = Field(description="What matters most; 'balanced' unless stated.")
    concurrent_users: Users | None = Field(default=None, description="User population, when known.")
    expected_qps: Qps = Field(description="Average requests per second.")
    peak_qps: Qps = Field(description="Requests per second at peak.")
    prompt_length_avg: PromptTokens = Field(description="Average input tokens.")
    generation_length_avg: GenerationTokens = Field(description="Average output tokens.")
    prompt_length_p95: PromptTokens | None = Field(default=None, description="p95 input tokens.")
    generation_length_p95: GenerationTokens | None = Field(default=None, description="p95 output tokens.")
    burstiness_pattern: BurstinessPattern = Field(description="Shape of the traffic over time.")
    streaming: bool = Field(default=True, description="Whether responses are streamed.")
    target_ttft_p90_ms: TtftMs = Field(description="Time to first token, p90, ms.")
    target_tpot_p90_ms: TpotMs = Field(description="Time per output token, p90, ms.")
    target_e2e_latency_p95_ms: E2eMs = Field(description="End-to-end latency, p95, ms.")
    target_throughput_rps: Qps | None = Field(default=None, description="Sustained requests per second.")
    quality_threshold: QualityThreshold = Field(description="Required output quality.")
    reliability_target: ReliabilityPct = Field(description="Availability target in percent.")
    max_monthly_cost_usd: MonthlyUsd | None = Field(default=None, description="Monthly budget, USD.")
    max_hourly_cost_usd: HourlyUsd | None = Field(default=None, description="Hourly budget, USD.")
    preferred_models: list[Identifier] = Field(default_factory=list, description="Preferred HF ids.")
    available_gpus: list[Identifier] = Field(
        default_factory=list, description="Allowed GPU ids (empty: any)."
    )
    excluded_gpus: list[Identifier] = Field(default_factory=list, description="Ruled-out GPU ids.")
    gpu_inventory: list[GpuInventoryItem] = Field(default_factory=list, description="Owned GPUs.")
    max_gpus: GpuCount | None = Field(default=None, description="Most GPUs the deployment may use.")
    cloud_provider: str | None = Field(default=None, max_length=40, description="Cloud provider.")
    region: str | None = Field(default=None, max_length=64, description="Region or area.")
    deployment_model: DeploymentModel = Field(description="cloud_rental unless stated.")
    power_cost_per_kwh: PowerUsdPerKwh | None = Field(default=None, description="USD per kWh.")
    cooling_overhead_pue: Pue = Field(default=DEFAULT_PUE, description="Power usage effectiveness.")
    amortization_period_months: AmortizationMonths = Field(
        default=DEFAULT_AMORTIZATION_MONTHS, description="Write-off period for purchased hardware."
    )
    template_id: str | None = Field(default=None, description="Use-case template the defaults came from.")
    template_similarity: float | None = Field(
        default=None, ge=-1, le=1, description="Cosine similarity of the description to the template."
    )
    qps_derivation: QpsEstimate | None = Field(
        default=None, description="How expected/peak QPS followed from the user population."
    )
    origins: dict[str, Origin] = Field(
        default_factory=dict, description="For every set field: stated, template or edited."
    )
    notes: dict[str, str] = Field(default_factory=dict, description="Why a value is what it is.")

    @model_validator(mode="after")
    def _every_field_has_origin(self) -> Specification:
        for name in type(self).model_fields:
            if name in _BOOKKEEPING:
                continue
            value = getattr(self, name)
            if value is None or value == []:
                continue
            if name not in self.origins:
                raise ValueError(f"field {name!r} has a value but no origin")
        unknown = set(self.origins) - set(type(self).model_fields)
        if unknown:
            raise ValueError(f"origins name unknown fields: {sorted(unknown)}")
        if self.peak_qps < self.expected_qps:
            raise ValueError("peak_qps must be at least expected_qps")
        return self

    @classmethod
    def editable_fields(cls) -> list[str]:
        return [n for n in cls.model_fields if n not in _BOOKKEEPING]

    def edit(self, **changes: Any) -> Specification:
        """Return a copy with ``changes`` applied, marked ``edited``, and all bounds re-checked.

        Raises ``ValueError`` for an unknown field and pydantic ``ValidationError`` for a bad value.
        """
        unknown = set(changes) - set(self.editable_fields())
        if unknown:
            raise ValueError(f"cannot edit unknown field(s): {sorted(unknown)}")
        data = self.model_dump()
        data.update(changes)
        origins = dict(self.origins)
        notes = dict(self.notes)
        for name, value in changes.items():
            if value is None or value == []:
                origins.pop(name, None)
            else:
                origins[name] = "edited"
            notes.pop(name, None)
        if "expected_qps" in changes and "peak_qps" not in changes and self.expected_qps > 0:
            # Keep the peak/steady ratio the person saw, so an edited QPS does not make peak < steady.
            data["peak_qps"] = changes["expected_qps"] * (self.peak_qps / self.expected_qps)
            origins["peak_qps"] = "edited"
        if {"expected_qps", "peak_qps"} & set(changes):
            data["qps_derivation"] = None
        data["origins"] = origins
        data["notes"] = notes
        return Specification.model_validate(data)

    def traffic_profile(self) -> TrafficProfile:
        return TrafficProfile(
            prompt_length_avg=self.prompt_length_avg,
            generation_length_avg=self.generation_length_avg,
            prompt_length_p95=self.prompt_length_p95,
            generation_length_p95=self.generation_length_p95,
            steady_qps=self.expected_qps,
            peak_qps=self.peak_qps,
            burstiness_pattern=self.burstiness_pattern,
            concurrent_users=self.concurrent_users,
            streaming=self.streaming,
        )

    def slo_targets(self) -> SLOTargets:
        return SLOTargets(
            ttft_p90_ms=self.target_ttft_p90_ms,
            tpot_p90_ms=self.target_tpot_p90_ms,
            e2e_latency_p95_ms=self.target_e2e_latency_p95_ms,
            throughput_rps=self.target_throughput_rps,
            quality_threshold=self.quality_threshold,
            reliability_target=self.reliability_target,
        )
