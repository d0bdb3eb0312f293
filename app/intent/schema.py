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
PriceClass = Literal["hyperscaler", "mainstream", "marketplace"]
UserKind = Literal["concurrent", "daily", "total", "batch"]
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
BatchItems = Annotated[int, Field(ge=1, le=1_000_000_000)]
WindowHours = Annotated[float, Field(gt=0, le=744)]
RunsPerMonth = Annotated[float, Field(gt=0, le=744)]

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
        description="Users active at the same moment ('200 concurrent users', 'up to 300 people at once').",
    )
    daily_users: Users | None = Field(
        default=None,
        description="Distinct users per day ('50,000 daily users', 'DAU', '2,000 customers a day').",
    )
    total_users: Users | None = Field(
        default=None,
        description="A named or total population ('5k employees', 'a team of 40', '1,200 seats', "
        "'for 1000 users').",
    )
    expected_qps: Qps | None = Field(default=None, description="Stated average request rate, per second.")
    batch_items: BatchItems | None = Field(
        default=None, description="Requests or documents per batch run ('20,000 documents every night')."
    )
    batch_window_hours: WindowHours | None = Field(
        default=None, description="Deadline for one batch run in hours ('within 8 hours'; 'overnight' = 8)."
    )
    batch_runs_per_month: RunsPerMonth | None = Field(
        default=None, description="How often the batch runs per month ('every night' = 30, 'weekly' = 4.3)."
    )
    price_class: PriceClass | None = Field(
        default=None,
        description="Price sources the person accepts, only when stated: 'hyperscaler' (AWS/GCP/Azure), "
        "'mainstream' GPU clouds, or 'marketplace' (spot/marketplace is fine).",
    )
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
    quality_reference_model: Identifier | None = Field(
        default=None,
        description="A model whose quality is the floor ('Llama 3.1 70B quality'): options below it are "
        "labelled lower quality and never ranked as equal.",
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
    """Load derived from how a user count (or a batch job) was meant, with its rule and a low–high range."""

    kind: UserKind = Field(default="total", description="How the count was meant (see ``users_to_qps``).")
    users: Users = Field(description="The user count (for a batch: the items per run).")
    active_fraction: float = Field(
        gt=0, le=1, description="Share of a user population active at the same time (used for 'total')."
    )
    requests_per_active_user_per_min: float = Field(
        gt=0, le=600, description="Requests one active user sends per minute."
    )
    peak_multiplier: float = Field(
        ge=1, le=100, description="Peak over steady load (the diurnal factor replaces it for daily users)."
    )
    requests_per_user_per_day: float | None = Field(
        default=None, gt=0, le=100_000, description="Daily users: requests one user sends per day."
    )
    active_users: float = Field(ge=0, description="Users active at the same time at the steady load.")
    steady_qps: float = Field(ge=0, description="Average requests per second.")
    peak_qps: float = Field(ge=0, description="Requests per second at peak.")
    peak_qps_low: float | None = Field(default=None, ge=0, description="Low end of the plausible peak.")
    peak_qps_high: float | None = Field(default=None, ge=0, description="High end of the plausible peak.")
    rule: str = Field(default="", description="The rule for this kind of count, in words.")
    explanation: str = Field(description="One line that shows how the numbers were obtained.")


# How many requests one *daily* user sends in a day, per task (Preflight's judgement: a chat user has one or
# two sessions of about five turns; a developer with inline completion triggers one every few seconds of
# typing; summaries and translations are a handful per person). Editable through the derivation's fields.
REQUESTS_PER_DAILY_USER: dict[str, float] = {
    "chatbot": 10.0,
    "rag_qa": 8.0,
    "code_completion": 200.0,
    "code_generation": 20.0,
    "summarization": 5.0,
    "translation": 10.0,
    "content_generation": 8.0,
    "batch_processing": 10.0,
}
# Daily traffic concentrates in the busy hours: in one region most of a day's requests arrive in ~8 hours,
# so the busiest hour runs at about 3 × the 24-hour average (2 for a spread-out global audience, 4 for a
# sharp office-hours peak: the range).
DIURNAL_PEAK_TO_AVERAGE = 3.0
DIURNAL_RANGE = (2.0, 4.0)
# A batch run is sized to finish within this share of its window, leaving the rest for start-up (pulling
# weights, warming up), retries and the slow tail of the last requests.
BATCH_WINDOW_USE = 0.8
# "overnight" with no number: a night's window (the contract's reading).
DEFAULT_BATCH_WINDOW_HOURS = 8.0


def users_to_qps(
    users: int,
    *,
    active_fraction: float,
    requests_per_active_user_per_min: float,
    peak_multiplier: float,
    kind: UserKind = "total",
    requests_per_user_per_day: float | None = None,
) -> QpsEstimate:
    """Steady and peak request rates from a user count, by what the count means (the one place for this).

    - ``total`` (named population: staff, seats, "for 1000 users"): ``active_fraction`` of them are active
      at once on average, each sending ``requests_per_active_user_per_min``; peak = steady × multiplier.
      Range: half to twice the active share.
    - ``concurrent`` (active at the same moment, read as the peak): peak = users × requests/min ÷ 60;
      steady = peak ÷ multiplier. Range: a turn every 60 s to every 20 s (0.5× to 1.5×).
    - ``daily`` (distinct users a day): average = users × requests per user per day ÷ 86,400; peak =
      average × the diurnal peak-to-average (3; range 2–4, with half to twice the requests a day).
    - ``batch`` (items per run; see :func:`batch_to_qps`).

    Raises pydantic ``ValidationError`` when an input is out of range.
    """
    rpm = requests_per_active_user_per_min
    if kind == "batch":
        raise ValueError("a batch load comes from batch_to_qps (items and a window), not a user count")
    if kind == "daily":
        per_day = requests_per_user_per_day or REQUESTS_PER_DAILY_USER["chatbot"]
        steady = users * per_day / 86400.0
        peak = steady * DIURNAL_PEAK_TO_AVERAGE
        low = users * per_day * 0.5 / 86400.0 * DIURNAL_RANGE[0]
        high = users * per_day * 2.0 / 86400.0 * DIURNAL_RANGE[1]
        rule = (
            "daily users: each sends about a day's requests, mostly in the busy hours; the busiest hour runs "
            f"at {DIURNAL_PEAK_TO_AVERAGE:g} × the 24-hour average"
        )
        explanation = (
            f"{users:,} daily users × {per_day:g} requests/day ÷ 86,400 s = {steady:,.2f} QPS average; "
            f"× {DIURNAL_PEAK_TO_AVERAGE:g} diurnal peak-to-average = {peak:,.2f} QPS at the busiest hour "
            f"(plausible {low:,.2f}–{high:,.2f})"
        )
        return QpsEstimate(
            kind=kind,
            users=users,
            active_fraction=active_fraction,
            requests_per_active_user_per_min=rpm,
            peak_multiplier=peak_multiplier,
            requests_per_user_per_day=per_day,
            active_users=steady * 60.0 / rpm,
            steady_qps=steady,
            peak_qps=peak,
            peak_qps_low=low,
            peak_qps_high=high,
            rule=rule,
            explanation=explanation,
        )
    if kind == "concurrent":
        peak = users * rpm / 60.0
        steady = peak / peak_multiplier
        low, high = peak * 0.5, peak * 1.5
        rule = "concurrent users: all of them are mid-conversation at the peak, one request each per turn"
        explanation = (
            f"{users:,} concurrent users × {rpm:g} requests/min ÷ 60 = {peak:,.2f} QPS at peak "
            f"(plausible {low:,.2f}–{high:,.2f}); ÷ {peak_multiplier:g} peak multiplier = {steady:,.2f} "
            "QPS steady"
        )
        return QpsEstimate(
            kind=kind,
            users=users,
            active_fraction=active_fraction,
            requests_per_active_user_per_min=rpm,
            peak_multiplier=peak_multiplier,
            active_users=users / peak_multiplier,
            steady_qps=steady,
            peak_qps=peak,
            peak_qps_low=low,
            peak_qps_high=high,
            rule=rule,
            explanation=explanation,
        )
    active = users * active_fraction
    steady = active * rpm / 60.0
    peak = steady * peak_multiplier
    low, high = peak * 0.5, peak * 2.0
    explanation = (
        f"{users:,} users × {active_fraction:.0%} active = {active:,.0f} active users; "
        f"× {rpm:g} requests/min ÷ 60 = {steady:,.2f} QPS steady; "
        f"× {peak_multiplier:g} peak multiplier = {peak:,.2f} QPS peak (plausible {low:,.2f}–{high:,.2f})"
    )
    return QpsEstimate(
        kind=kind,
        users=users,
        active_fraction=active_fraction,
        requests_per_active_user_per_min=rpm,
        peak_multiplier=peak_multiplier,
        active_users=active,
        steady_qps=steady,
        peak_qps=peak,
        peak_qps_low=low,
        peak_qps_high=high,
        rule="a user population: a share of it is active at once, each active user sends a request per turn",
        explanation=explanation,
    )


def batch_to_qps(items: int, window_hours: float, runs_per_month: float | None = None) -> QpsEstimate:
    """The rate a batch run must sustain to finish ``items`` within ``BATCH_WINDOW_USE`` of its window."""
    rate = items / (window_hours * 3600.0 * BATCH_WINDOW_USE)
    runs = f", {runs_per_month:g} runs a month" if runs_per_month else ""
    explanation = (
        f"{items:,} items per run within {window_hours:g} h (sized to finish in {BATCH_WINDOW_USE:.0%} of "
        f"the window) = {rate:,.3f} requests/s while the run lasts{runs}"
    )
    return QpsEstimate(
        kind="batch",
        users=items,
        active_fraction=1.0,
        requests_per_active_user_per_min=1.0,
        peak_multiplier=1.0,
        active_users=0.0,
        steady_qps=rate,
        peak_qps=rate,
        peak_qps_low=items / (window_hours * 3600.0),
        peak_qps_high=rate,
        rule="batch window: the whole job must finish before the deadline; throughput, not users, sizes it",
        explanation=explanation,
    )


READING_FIELDS = ("concurrent_users", "daily_users", "total_users", "batch_items", "batch_window_hours")


def derive_load(
    *,
    concurrent_users: int | None,
    daily_users: int | None,
    total_users: int | None,
    batch_items: int | None,
    batch_window_hours: float | None,
    batch_runs_per_month: float | None,
    active_fraction: float,
    requests_per_active_user_per_min: float,
    peak_multiplier: float,
    requests_per_user_per_day: float | None,
) -> QpsEstimate | None:
    """The load of the strongest reading stated: a batch window, then concurrent, daily, total users.

    Concurrent users describe the peak directly, so they win over a daily or total count; None when no
    count is given."""
    if batch_items is not None:
        return batch_to_qps(
            batch_items, batch_window_hours or DEFAULT_BATCH_WINDOW_HOURS, batch_runs_per_month
        )
    for kind, users in (("concurrent", concurrent_users), ("daily", daily_users), ("total", total_users)):
        if users is not None:
            return users_to_qps(
                users,
                active_fraction=active_fraction,
                requests_per_active_user_per_min=requests_per_active_user_per_min,
                peak_multiplier=peak_multiplier,
                kind=kind,  # type: ignore[arg-type]
                requests_per_user_per_day=requests_per_user_per_day,
            )
    return None


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
    concurrent_users: Users | None = Field(default=None, description="Users active at the same moment.")
    daily_users: Users | None = Field(default=None, description="Distinct users per day.")
    total_users: Users | None = Field(default=None, description="Named or total user population.")
    batch_items: BatchItems | None = Field(default=None, description="Requests per batch run.")
    batch_window_hours: WindowHours | None = Field(default=None, description="Deadline of one batch run, h.")
    batch_runs_per_month: RunsPerMonth | None = Field(default=None, description="Batch runs per month.")
    price_class: PriceClass | None = Field(
        default=None, description="Price sources accepted (default: by reliability target)."
    )
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
    quality_reference_model: Identifier | None = Field(
        default=None, description="Quality floor named by a model ('Llama 3.1 70B quality')."
    )
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

    @property
    def users_field(self) -> str | None:
        """The user-count field the load is read from (concurrent, then daily, then total), if any."""
        return next((f for f in ("concurrent_users", "daily_users", "total_users") if getattr(self, f)), None)

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
        new_qps = changes.get("expected_qps")
        if (
            isinstance(new_qps, (int, float))
            and not isinstance(new_qps, bool)
            and "peak_qps" not in changes
            and self.expected_qps > 0
        ):
            # Keep the peak/steady ratio the person saw, so an edited QPS does not make peak < steady.
            # Anything else (None, text) is left to the field's own validation, which names the bound.
            data["peak_qps"] = new_qps * (self.peak_qps / self.expected_qps)
            origins["peak_qps"] = "edited"
        if {"expected_qps", "peak_qps"} & set(changes):
            data["qps_derivation"] = None
        elif set((*READING_FIELDS, "batch_runs_per_month")) & set(changes):
            # An edited reading (users of another kind, a batch window) re-derives the load by its rule; the
            # edited values are checked first, so a bad one is reported under its own field name.
            Specification.model_validate({**data, "origins": origins, "notes": notes})
            d = self.qps_derivation
            est = derive_load(
                **{f: data.get(f) for f in (*READING_FIELDS, "batch_runs_per_month")},
                active_fraction=d.active_fraction if d else 0.1,
                requests_per_active_user_per_min=d.requests_per_active_user_per_min if d else 2.0,
                peak_multiplier=d.peak_multiplier if d else 2.0,
                requests_per_user_per_day=(d.requests_per_user_per_day if d else None)
                or REQUESTS_PER_DAILY_USER.get(self.task_type),
            )
            if est is not None:
                data["qps_derivation"] = est
                data["expected_qps"] = max(round(est.steady_qps, 6), 1e-6)
                data["peak_qps"] = max(round(est.peak_qps, 6), data["expected_qps"])
                origins["expected_qps"] = origins["peak_qps"] = "edited"
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
