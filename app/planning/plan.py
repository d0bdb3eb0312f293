"""The pure planning core: a Specification and a candidate catalog in, a ranked RecommendationResult out.

No I/O here (``recommend.py`` loads the catalog from Postgres and stores the result). Steps:

1. Traffic: steady and peak arrival processes (``traffic.derive_traffic``).
2. Candidates: every (model, GPU, precision) the SQL layer returned, at each tensor-parallel degree whose
   memory plan fits (the performance model's memory check), up to 2 × the smallest fitting degree.
3. Constraints as *violations*, so that rejections and relaxations can say what was missed and by how much:
   quality index below the threshold, latency floors above the targets, GPUs beyond ``max_gpus`` or the
   inventory, cost above the budget, no price.
4. Screening of all candidates with the vectorised closed form (``sizing.screen``), then the full percentile
   model on the finalists (``sizing.size_full``), in priority order; for the ``cost`` priority the search
   continues until no unevaluated candidate could be cheaper than the options found.
5. Ranking by priority, Pareto front, rationales, notable rejections, and relaxations when nothing fits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.intent.schema import Specification
from app.perf.calibrate import Calibration
from app.perf.corrections import ConfigOutcomes, OutcomeKey
from app.perf.memory import valid_tp_degrees, weight_bytes
from app.perf.predict import MeasuredPoint
from app.perf.types import GpuSpec, ModelArch, Prediction, Stats
from app.planning import explain, feasibility
from app.planning.cost import (
    CLOUD_KINDS,
    DEFAULT_HARDWARE,
    DEFAULT_RUNS_PER_MONTH,
    HardwareAssumptions,
    PriceRow,
    batch_cost,
    cloud_cost,
    owned_cost,
    purchase_cost,
    server_node,
)
from app.planning.prices import allowed_classes
from app.planning.quality import (
    REFERENCE_TOLERANCE,
    THRESHOLDS,
    QualityProfile,
    below_size_floor,
    direct_evidence,
    meets_threshold,
    needs_direct_evidence,
    option_quality,
    task_quality,
)
from app.planning.result import (
    Alternative,
    Checkpoint,
    Cost,
    Option,
    Quality,
    RecommendationResult,
    Rejected,
)
from app.planning.sizing import (
    GPU_MEMORY_UTILIZATION,
    MAX_BATCHED_TOKENS,
    SLO_SAFETY_MARGIN,
    Config,
    Targets,
    full_predict,
    gpus_needed_to_fit,
    headroom,
    memory_fit,
    memory_workload,
    outcomes_of,
    screen,
    size_full,
    slo_checks,
    slo_values,
    with_margin,
)
from app.planning.traffic import derive_traffic

# (cost, latency, quality) weights of the priorities ranked by a weighted score; `cost` and `accuracy` rank
# lexicographically (cheapest meeting every target; best quality, then cheapest).
# How many of the top options one model may take (see Planner.diversify).
MAX_TOP_PER_MODEL = 2

PRIORITY_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "balanced": (1.0, 1.0, 1.0),
    "latency": (1.0, 2.0, 0.25),
}
# Accuracy: quality indexes are known to a few points, so models within one band of this many points count
# as equally good and the cheaper configuration wins among them.
ACCURACY_BAND_POINTS = 3.0
# Latency earns credit only up to this factor under each target: 10× under earns no more than 2× under, so
# money is never spent on speed nobody feels (the SLOs are the constraints; see Planner.latency_credit).
LATENCY_CREDIT_CAP = 2.0
# Bounds of the balanced/latency utility's cost and quality terms (in doublings of cost, tens of points).
COST_TERM_CAP = 4.0
QUALITY_TERM_CAP = 3.0


@dataclass(frozen=True)
class ModelEntry:
    id: str
    family: str
    arch: ModelArch
    quality: Quality
    license: str | None = None
    context_window: int | None = None
    # Published repos per precision (models.checkpoints): what vLLM loads (app/planning/feasibility.py).
    checkpoints: tuple[dict[str, Any], ...] = ()
    # Per-family standings from comparable published scores: the task's quality comes from them.
    profile: QualityProfile | None = None
    params_b: float | None = None  # total parameters, for the task's size floor


@dataclass(frozen=True)
class GpuEntry:
    id: str
    spec: GpuSpec
    tdp_w: float | None = None


@dataclass
class PlanCatalog:
    """What the planner may choose from (loaded by SQL, or built by hand in tests)."""

    models: dict[str, ModelEntry]
    gpus: dict[str, GpuEntry]
    prices: list[PriceRow]
    candidates: list[tuple[str, str, str]]  # (model id, GPU id, precision)
    measured: dict[tuple[str, str, int, str, str], tuple[MeasuredPoint, ...]] = field(default_factory=dict)
    catalog_rejections: list[Rejected] = field(default_factory=list)
    # Models a person may name as a quality floor that are not candidates here (other tasks, other GPUs).
    reference_models: dict[str, ModelEntry] = field(default_factory=dict)
    # Observed outcomes per (model, GPU, engine) (``corrections.outcome_key``): the planner corrects those
    # configurations' screened and full predictions with them. Per request, never part of the memo.
    outcomes: dict[OutcomeKey, ConfigOutcomes] = field(default_factory=dict)
    # What the planner derives from this catalog alone (configurations, memory plans), reused by every plan
    # over it. ``dataclasses.replace`` shares it, so a per-call copy with other rejections keeps the memo.
    memo: dict[object, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class PlanSettings:
    top_k: int = 5
    max_tp: int = 8
    engine: str = "vllm"
    rental_kinds: tuple[str, ...] = CLOUD_KINDS
    space_usd_per_gpu_month: float | None = None  # replaces colocation per kW when given
    hardware: HardwareAssumptions = DEFAULT_HARDWARE  # owned/purchase assumptions, listed on each cost
    min_finalists: int = 5
    max_finalists: int = 30
    viable_limit: int = 20
    rejected_limit: int = 25
    max_replicas: int = 1000
    calibration: Calibration | None = None


@dataclass(slots=True)
class Violation:
    field: str  # the Specification field a person would relax
    value: float  # what the candidate needs or reaches
    limit: float  # what the specification allows
    note: str | None  # the words; None for a latency floor, worded on demand from ``label``
    label: str = ""

    @property
    def text(self) -> str:
        # Wording thousands of floors that no one reads is most of a large plan's time: word them lazily.
        if self.note is None:
            return (
                f"predicted {self.label} {explain.ms(self.value)} "
                f"> {explain.ms(self.limit)} target even at light load"
            )
        return self.note


@dataclass(slots=True)
class Candidate:
    cfg: Config
    quality: Quality
    violations: list[Violation] = field(default_factory=list)
    n_peak: int = 0
    n_steady: int = 0
    spare: int = 0
    headroom_text: str = ""
    slo_rps: float = 0.0
    capacity_rps: float = 0.0
    cost: Cost | None = None
    ttft: float = math.inf
    tpot: float = math.inf
    e2e: float = math.inf
    prediction: Prediction | None = None
    evaluation: str = "screened"  # screened | full
    rank: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.cfg.model_id, self.cfg.gpu_id)

    @property
    def gpus_total(self) -> int:
        return self.cfg.tp * (self.n_peak + self.spare)

    @property
    def gpus_steady(self) -> int:
        return self.cfg.tp * (self.n_steady + self.spare)


class Planner:
    """One planning run: holds the specification, traffic and catalog while candidates are evaluated."""

    def __init__(self, spec: Specification, catalog: PlanCatalog, settings: PlanSettings) -> None:
        self.spec = spec
        self.catalog = catalog
        self.settings = settings
        self.derivation, self.traffic = derive_traffic(spec)
        self.targets = Targets(
            ttft_p90_ms=spec.target_ttft_p90_ms,
            tpot_p90_ms=spec.target_tpot_p90_ms,
            e2e_p95_ms=spec.target_e2e_latency_p95_ms,
            throughput_rps=spec.target_throughput_rps,
        )
        # Sizing uses the targets less the safety margin; checks and verdicts use the targets themselves.
        self.sizing_targets = with_margin(self.targets)
        self.threshold = THRESHOLDS[spec.quality_threshold]
        self.price_classes = allowed_classes(spec.price_class, spec.reliability_target)
        self.inventory = {item.gpu: item.count for item in spec.gpu_inventory}
        self.tokens_per_hour = spec.expected_qps * self.traffic.tokens_per_request * 3600.0
        self.timings: dict[str, float] = {}
        self.memory_rejections: list[Rejected] = []
        self._costs: dict[tuple[str, int, int], Cost | None] = {}
        self.all_candidates: list[Candidate] = []
        self._viable_by_model: dict[str, list[Candidate]] | None = None
        self._credits: dict[tuple[float, float, float], float] = {}

    # --- limits and costs ------------------------------------------------------------------------------

    def gpu_limit(self, gpu_id: str) -> tuple[float, str | None]:
        limit: float = math.inf
        name = None
        if self.spec.max_gpus is not None:
            limit, name = float(self.spec.max_gpus), "max_gpus"
        if self.inventory:
            owned = float(self.inventory.get(gpu_id, 0))
            if owned < limit:
                limit, name = owned, "gpu_inventory"
        return limit, name

    def cost_of(self, c: Candidate) -> Cost | None:
        return self.cost_of_counts(c.cfg.gpu_id, c.gpus_steady, c.gpus_total)

    def _cost(self, gpu_id: str, steady: int, peak: int) -> Cost | None:
        gpu = self.catalog.gpus[gpu_id]
        model = self.spec.deployment_model
        board = gpu.spec.interconnect != "pcie"  # SXM/OAM parts come on 8-GPU baseboards
        hw = self.settings.hardware
        if model == "owned_hardware":
            return owned_cost(
                gpu.id,
                tdp_w=gpu.tdp_w,
                gpus_steady=steady,
                gpus_peak=peak,
                usd_per_kwh=self.spec.power_cost_per_kwh,
                pue=self.spec.cooling_overhead_pue,
                tokens_per_hour=self.tokens_per_hour,
                owned=self.inventory.get(gpu.id),
                node=server_node(
                    gpu.id,
                    board=board,
                    gpus_needed=peak,
                    tdp_w=gpu.tdp_w,
                    prices=self.prices_of(gpu.id),
                    hw=hw,
                ),
                hw=hw,
            )
        rental = self.rental_cost(gpu, steady, peak)
        if model == "cloud_rental":
            return rental
        return purchase_cost(
            gpu.id,
            tdp_w=gpu.tdp_w,
            gpus_bought=peak,
            gpus_steady=steady,
            prices=self.prices_of(gpu.id),
            usd_per_kwh=self.spec.power_cost_per_kwh,
            pue=self.spec.cooling_overhead_pue,
            months=self.spec.amortization_period_months,
            space_usd_per_gpu_month=self.settings.space_usd_per_gpu_month,
            rental_monthly_usd=rental.monthly_usd if rental else None,
            tokens_per_hour=self.tokens_per_hour,
            board=board,
            hw=hw,
        )

    def rental_cost(self, gpu: GpuEntry, steady: int, peak: int) -> Cost | None:
        """Cloud rental cost, kept in the catalog's memo across plans: it depends on the counts, the price
        rules and the daily pattern, not on the load (only the per-token figure does, set here)."""
        named = self.spec.deployment_model == "cloud_rental"
        provider = self.spec.cloud_provider if named else None
        region = self.spec.region if named else None
        hours = self.derivation.peak_hours_per_day
        key = (
            "rental",
            gpu.id,
            steady,
            peak,
            self.price_classes,
            self.settings.rental_kinds,
            provider,
            region,
            hours,
        )
        memo = self.catalog.memo
        if key not in memo:
            memo[key] = cloud_cost(
                gpu.id,
                gpus_steady=steady,
                gpus_peak=peak,
                prices=self.prices_of(gpu.id),
                tokens_per_hour=1.0,
                kinds=self.settings.rental_kinds,
                provider=provider,
                region=region,
                classes=self.price_classes,
                gpu_is_sxm=_is_sxm(gpu),
                peak_hours_per_day=hours,
            )
        cost: Cost | None = memo[key]
        if cost is None:
            return None
        per_1k = (
            round(cost.hourly_usd / (self.tokens_per_hour / 1000.0), 9) if self.tokens_per_hour > 0 else None
        )
        return cost.model_copy(update={"per_1k_tokens_usd": per_1k})

    def prices_of(self, gpu_id: str) -> list[PriceRow]:
        """The GPU's price rows (the cost functions only look at those), indexed once per catalog."""
        index = self.catalog.memo.get("prices_by_gpu")
        if index is None:
            index = {}
            for row in self.catalog.prices:
                index.setdefault(row.gpu_id, []).append(row)
            self.catalog.memo["prices_by_gpu"] = index
        rows: list[PriceRow] = index.get(gpu_id, [])
        return rows

    def cost_key(self, c: Candidate) -> float:
        """What the cost priority minimises: money, or GPUs used when owned hardware is free to run."""
        money = c.cost.monthly_usd if c.cost else math.inf
        if self.spec.deployment_model == "owned_hardware":
            return c.gpus_total * 1e9 + money
        return money

    def latency_credit(self, c: Candidate) -> float:
        """0–1: the mean over the targets of log2(target / predicted), each capped at LATENCY_CREDIT_CAP
        (2× under a target earns the full credit, and no more for being faster still)."""
        key = (c.ttft, c.tpot, c.e2e)
        hit = self._credits.get(key)
        if hit is not None:
            return hit
        t = self.targets
        total = 0.0
        for value, target in ((c.ttft, t.ttft_p90_ms), (c.tpot, t.tpot_p90_ms), (c.e2e, t.e2e_p95_ms)):
            ratio = target / max(value, 1e-9)
            total += math.log2(min(max(ratio, 1.0), LATENCY_CREDIT_CAP)) / math.log2(LATENCY_CREDIT_CAP)
        # Memoised per latency triple: the sorts score every candidate, and copies of one configuration
        # (generated or fine-tuned models) share their latencies.
        self._credits[key] = total / 3.0
        return total / 3.0

    def latency_key(self, c: Candidate) -> float:
        t = self.targets
        return (c.ttft / t.ttft_p90_ms + c.tpot / t.tpot_p90_ms + c.e2e / t.e2e_p95_ms) / 3.0

    def apply_post_sizing_checks(self, c: Candidate) -> None:
        """GPU limits, price and budget once the replica counts are known (replaces earlier such checks)."""
        c.violations = [v for v in c.violations if v.field not in _SIZE_FIELDS]
        limit, name = self.gpu_limit(c.cfg.gpu_id)
        if name == "gpu_inventory" and c.gpus_total > limit >= c.cfg.tp * c.n_peak:
            # Owned GPUs are honoured exactly: the load fits them, only the spare replica does not. Serve
            # with the spares that fit and say what the availability target would need.
            fit = int(limit) // c.cfg.tp - c.n_peak
            wanted = c.spare
            c.spare = fit
            c.headroom_text = (
                f"{fit} of {wanted} spare replica{'s' if wanted > 1 else ''} for "
                f"{self.spec.reliability_target:g}%: the {int(limit)} owned {c.cfg.gpu_id} hold "
                f"{c.n_peak + fit} replica{'s' if c.n_peak + fit > 1 else ''} of {c.cfg.tp} GPUs; add "
                f"{(wanted - fit) * c.cfg.tp} GPUs for the full margin"
            )
        if c.gpus_total > limit and name:
            where = (
                f"{int(limit)} {c.cfg.gpu_id} owned"
                if name == "gpu_inventory"
                else f"max_gpus is {int(limit)}"
            )
            c.violations.append(
                Violation(name, c.gpus_total, limit, f"needs {c.gpus_total} GPUs but {where}")
            )
        c.cost = self.cost_of(c)
        if c.cost is None:
            kind = "purchase" if self.spec.deployment_model == "purchase" else "rental"
            where = f" from {self.spec.cloud_provider}" if self.spec.cloud_provider else ""
            c.violations.append(
                Violation("cloud_provider", 1, 0, f"no {kind} price for {c.cfg.gpu_id}{where}")
            )
            return
        c.cost = self.as_batch(c, c.cost, c.gpus_total)
        budget = self.spec.max_monthly_cost_usd
        c.flags = []
        if c.spare and self.spec.origins.get("reliability_target") not in ("stated", "edited"):
            c.flags.append(self.default_spare_note(c))
        peak_month = c.cost.monthly_usd_at_peak
        if budget is not None and peak_month is not None and c.cost.monthly_usd <= budget < peak_month:
            c.flags.append(
                f"within the ${budget:,.0f} budget blended over the day (${c.cost.monthly_usd:,.0f}/month), "
                f"but ${peak_month:,.0f}/month if the peak replica count ran all month"
            )
        if budget is not None and c.cost.monthly_usd > budget:
            c.violations.append(
                Violation(
                    "max_monthly_cost_usd",
                    c.cost.monthly_usd,
                    budget,
                    f"costs ${c.cost.monthly_usd:,.0f}/month > ${budget:,.0f} budget",
                )
            )
        hourly = self.spec.max_hourly_cost_usd
        if hourly is not None and c.cost.hourly_usd > hourly:
            c.violations.append(
                Violation(
                    "max_hourly_cost_usd",
                    c.cost.hourly_usd,
                    hourly,
                    f"costs ${c.cost.hourly_usd:,.2f}/hour > ${hourly:,.2f} budget",
                )
            )

    # --- candidates ------------------------------------------------------------------------------------

    def build_candidates(self) -> list[Candidate]:
        skeleton, memory_rejections = self._skeleton()
        self.memory_rejections = list(memory_rejections)
        reference = self.reference_quality()
        # The checks below depend on the model and its quality (per precision) only: done once for each, not
        # per configuration (a large catalog has tens of GPUs and TPs per model). Violations are never
        # mutated, so candidates share them.
        per_model: dict[tuple[str, str], tuple[Quality, Quality, tuple[Violation, ...]]] = {}
        out: list[Candidate] = []
        for cfg, quality in skeleton:
            key = (cfg.model_id, cfg.precision)
            hit = per_model.get(key)
            if hit is None or hit[0] is not quality:
                shown, violations = self._model_checks(cfg.model_id, quality, reference)
                hit = per_model[key] = (quality, shown, violations)
            out.append(Candidate(cfg=cfg, quality=hit[1], violations=list(hit[2])))
        return out

    def _model_checks(
        self, model_id: str, quality: Quality, reference: tuple[str, Quality] | None
    ) -> tuple[Quality, tuple[Violation, ...]]:
        """A model's quality as shown (labelled when below a named reference) and its quality violations."""
        threshold = self.threshold
        violations: list[Violation] = []
        if not meets_threshold(quality, self.spec.quality_threshold):
            shown = "unknown" if quality.basis == "unknown" else f"{quality.index:.0f}"
            violations.append(
                Violation(
                    "quality_threshold",
                    quality.index,
                    threshold,
                    f"quality index for {self.spec.task_type} {shown} < {threshold:.0f} "
                    f"needed for '{self.spec.quality_threshold}'",
                )
            )
        model = self.catalog.models[model_id]
        floor = below_size_floor(model.params_b or 0.0, self.spec.task_type) if model.params_b else None
        if floor is not None and model_id not in self.spec.preferred_models:
            violations.append(
                Violation(
                    "preferred_models",
                    model.params_b or 0.0,
                    floor,
                    f"{model.params_b:.1f} B parameters < the {floor:g} B minimum for "
                    f"{self.spec.task_type} (name the model to use it anyway)",
                )
            )
        if reference is not None and model_id != self.spec.quality_reference_model:
            ref_name, ref = reference
            lower = quality.basis == "unknown" or quality.index < ref.index - REFERENCE_TOLERANCE
            label = (
                f"lower quality than {ref_name} for {self.spec.task_type} "
                f"({'unknown' if quality.basis == 'unknown' else f'{quality.index:.0f}'} "
                f"< {ref.index:.0f})"
            )
            if not lower:
                unproven = self.unproven_against_reference(model)
                if unproven is not None:
                    lower, label = True, unproven
            if lower:
                quality = quality.model_copy(update={"below_reference": label})
                violations.append(Violation("quality_reference_model", quality.index, ref.index, label))
        return quality, tuple(violations)

    def model_quality(self, model: ModelEntry) -> Quality:
        """The model's quality for this task and subject (its published standings), else its stored index."""
        if model.profile is None:
            return model.quality
        return task_quality(model.profile, self.spec.task_type, self.spec.subject_matter)

    def unproven_against_reference(self, model: ModelEntry) -> str | None:
        """Why a far smaller model does not count as matching the named one (no head-to-head win in any
        source for this task), or None when it does or is not far smaller."""
        ref_id = self.spec.quality_reference_model or ""
        ref = self.catalog.models.get(ref_id) or self.catalog.reference_models.get(ref_id)
        if ref is None or not needs_direct_evidence(model.profile, ref.profile):
            return None
        assert model.profile is not None and ref.profile is not None
        if direct_evidence(model.profile, ref.profile, self.spec.task_type, self.spec.subject_matter):
            return None
        return (
            f"not shown to match {ref_id.split('/')[-1]} for {self.spec.task_type}: "
            f"{model.profile.params_b:.0f} B against {ref.profile.params_b:.0f} B and no source scored both "
            "with this model ahead"
        )

    def reference_quality(self) -> tuple[str, Quality] | None:
        """The named quality floor ('Llama 3.1 70B quality') at full precision, when the catalog knows it."""
        ref_id = self.spec.quality_reference_model
        if not ref_id:
            return None
        model = self.catalog.models.get(ref_id) or self.catalog.reference_models.get(ref_id)
        if model is None:
            return None
        quality = self.model_quality(model)
        return (ref_id.split("/")[-1], quality) if quality.basis != "unknown" else None

    def _skeleton(self) -> tuple[list[tuple[Config, Quality]], list[Rejected]]:
        """Configurations (with memory plans) and memory rejections: they depend on the catalog, the token
        lengths and the settings only, so they are kept in the catalog's memo and reused by later plans."""
        wl = memory_workload(self.traffic)
        engine = self.settings.engine
        key = (
            "skeleton",
            wl.input_tokens.mean,
            wl.input_tokens.upper,
            wl.output_tokens.mean,
            wl.output_tokens.upper,
            self.context_needed(),
            self.spec.task_type,
            self.spec.subject_matter,
            engine,
            self.settings.max_tp,
        )
        hit = self.catalog.memo.get(key)
        if hit is not None:
            return hit
        configs: list[tuple[Config, Quality]] = []
        rejections: list[Rejected] = []
        needed = self.context_needed()
        task_qualities: dict[str, Quality] = {}  # one task index per model, however many GPUs and precisions
        option_qualities: dict[tuple[str, str], Quality] = {}
        for model_id, gpu_id, precision in self.catalog.candidates:
            model = self.catalog.models.get(model_id)
            gpu = self.catalog.gpus.get(gpu_id)
            if model is None or gpu is None:
                continue
            unservable = feasibility.context_shortfall(self.context_window(model), needed)
            if unservable is None and not feasibility.loadable(precision, model.checkpoints):
                unservable = f"no loadable {precision} checkpoint is recorded for this model"
            if unservable is not None:
                rejections.append(
                    Rejected(model_id=model_id, gpu_id=gpu_id, precision=precision, reason=unservable)
                )
                continue
            fitting, last_reason = _fitting_tps(
                model.arch, gpu.spec, precision, engine, wl, self.settings.max_tp
            )
            if not fitting:
                need = gpus_needed_to_fit(model.arch, gpu.spec, precision)
                head = (
                    f"needs about {need} GPUs to fit: more than one {self.settings.max_tp}-GPU node, which "
                    "would take pipeline parallelism across nodes (not planned: tensor parallelism stays "
                    "within a node)"
                    if need > self.settings.max_tp
                    else f"does not fit on up to {self.settings.max_tp} GPUs"
                )
                rejections.append(
                    Rejected(
                        model_id=model_id,
                        gpu_id=gpu_id,
                        precision=precision,
                        tp=None,
                        reason=f"{head} ({last_reason})",
                    )
                )
                continue
            # One quality object per (model, precision), however many GPUs: build_candidates checks each once.
            quality = option_qualities.get((model_id, precision))
            if quality is None:
                base = task_qualities.get(model_id)
                if base is None:
                    base = task_qualities[model_id] = self.model_quality(model)
                quality = option_qualities[(model_id, precision)] = option_quality(base, precision)
            min_tp = fitting[0][0]
            for tp, conc, kv in fitting:
                cfg = Config(
                    model_id=model_id,
                    gpu_id=gpu_id,
                    precision=precision,
                    tp=tp,
                    arch=model.arch,
                    gpu=gpu.spec,
                    max_batch=conc,
                    kv_cache_tokens=kv,
                    min_fit_tp=min_tp,
                    engine=engine,
                    measured=self.catalog.measured.get((model_id, gpu_id, tp, precision, engine), ()),
                )
                configs.append((cfg, quality))
        if len(self.catalog.memo) > 32:
            self.catalog.memo.clear()
        self.catalog.memo[key] = (configs, rejections)
        return configs, rejections

    def run_screen(self, cands: list[Candidate]) -> None:
        if not cands:
            return
        res = screen(
            [c.cfg for c in cands],
            self.traffic,
            self.sizing_targets,
            self.settings.calibration,
            self.catalog.outcomes,
        )
        t, real = self.sizing_targets, self.targets
        peak, steady = self.traffic.peak_qps, self.traffic.steady_qps
        # Replica counts for all candidates at once; the loop below only assigns and checks limits.
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(res.slo_rps > 0, res.slo_rps, 1.0)
            n_peak = np.maximum(1, np.ceil(peak / safe - 1e-9)).astype(np.int64)
            n_steady = np.minimum(n_peak, np.maximum(1, np.ceil(steady / safe - 1e-9))).astype(np.int64)
        rows = zip(
            cands,
            res.capacity_rps.tolist(),
            res.slo_rps.tolist(),
            res.floor_ttft_p90.tolist(),
            res.floor_tpot_p90.tolist(),
            res.floor_e2e_p95.tolist(),
            n_peak.tolist(),
            n_steady.tolist(),
            strict=True,
        )
        spares: dict[int, tuple[int, str]] = {}
        reliability = self.spec.reliability_target
        for c, cap, slo, f_ttft, f_tpot, f_e2e, np_, ns_ in rows:
            c.capacity_rps = cap
            c.slo_rps = slo
            c.ttft, c.tpot, c.e2e = f_ttft, f_tpot, f_e2e
            if slo <= 0:
                added = False
                for name, label, value, with_margin_ms, target in (
                    ("target_ttft_p90_ms", "TTFT p90", f_ttft, t.ttft_p90_ms, real.ttft_p90_ms),
                    ("target_tpot_p90_ms", "TPOT p90", f_tpot, t.tpot_p90_ms, real.tpot_p90_ms),
                    ("target_e2e_latency_p95_ms", "E2E p95", f_e2e, t.e2e_p95_ms, real.e2e_p95_ms),
                ):
                    if value > with_margin_ms:
                        # Past the target itself, or only inside its safety margin: say which.
                        limit, what = (
                            (target, label)
                            if value > target
                            else (with_margin_ms, f"{label} (target less the {SLO_SAFETY_MARGIN:.0%} margin)")
                        )
                        c.violations.append(Violation(name, value, limit, None, what))
                        added = True
                if not added:
                    c.violations.append(
                        Violation(
                            "target_ttft_p90_ms",
                            f_ttft,
                            t.ttft_p90_ms,
                            "latency targets not met together at any load",
                        )
                    )
                continue
            c.n_peak = np_
            c.n_steady = ns_
            spare = spares.get(np_)
            if spare is None:
                spare = spares[np_] = headroom(np_, reliability)
            c.spare, c.headroom_text = spare
            self.apply_post_sizing_checks(c)

    # --- ordering ----------------------------------------------------------------------------------------

    def order_key(self) -> Callable[[Candidate], tuple[float, ...]]:
        p = self.spec.priority
        if p == "cost":  # cheapest; at the same cost, the better model, then the faster
            return lambda c: (self.cost_key(c), -c.quality.index, self.latency_key(c))
        if p == "accuracy":  # best quality band within the constraints (budget included), then cheapest
            return lambda c: (
                -math.floor(c.quality.index / ACCURACY_BAND_POINTS),
                self.cost_key(c),
                -c.quality.index,
                self.latency_key(c),
            )
        return lambda c: (0.0,)  # balanced: relative scores, see balanced_scores

    def sort(self, cands: list[Candidate]) -> list[Candidate]:
        if not cands:
            return []
        if self.spec.priority in PRIORITY_WEIGHTS:
            scores = self.balanced_scores(cands)
            # Ties go to the better model, then the cheaper configuration.
            order = sorted(
                range(len(cands)),
                key=lambda i: (round(scores[i], 6), -cands[i].quality.index, self.cost_key(cands[i])),
            )
            return [cands[i] for i in order]
        return sorted(cands, key=self.order_key())

    def balanced_scores(self, cands: Sequence[Candidate]) -> list[float]:
        """A bounded utility (lower is better), the weighted mean of three terms each in a fixed range:

        - cost: doublings over the cheapest, log2(cost / best), capped at COST_TERM_CAP;
        - latency: 1 − ``latency_credit`` (0 when 2× under every target; being faster still earns nothing);
        - quality: points below the best / 10, capped at QUALITY_TERM_CAP.

        Balanced weighs them equally: the full latency credit is worth paying twice the price, or 10 quality
        points. Latency first doubles the latency weight (worth up to four times the price) and keeps quality
        above the threshold as a tie-breaker (a quarter weight), so neither a speed nobody feels nor a bigger
        model buys the most expensive GPUs.
        """
        w_cost, w_lat, w_quality = PRIORITY_WEIGHTS[self.spec.priority]
        costs = [
            max(
                c.gpus_total
                if self.spec.deployment_model == "owned_hardware"
                else (c.cost.monthly_usd if c.cost else math.inf),
                1e-6,
            )
            for c in cands
        ]
        best_cost = min(costs)
        best_q = max(c.quality.index for c in cands)
        total = w_cost + w_lat + w_quality
        return [
            (
                w_cost * min(math.log2(costs[i] / best_cost), COST_TERM_CAP)
                + w_lat * (1.0 - self.latency_credit(cands[i]))
                + w_quality * min((best_q - cands[i].quality.index) / 10.0, QUALITY_TERM_CAP)
            )
            / total
            for i in range(len(cands))
        ]

    # --- full evaluation ---------------------------------------------------------------------------------

    def evaluate(self, c: Candidate) -> None:
        limit, _ = self.gpu_limit(c.cfg.gpu_id)
        max_n = self.settings.max_replicas
        if math.isfinite(limit):
            max_n = max(1, min(max_n, int(limit) // c.cfg.tp))
        cal = self.settings.calibration
        observed = self.outcomes_of(c)
        sized = size_full(
            c.cfg,
            self.traffic,
            self.sizing_targets,
            self.traffic.peak_qps,
            c.n_peak,
            max_replicas=max_n,
            calibration=cal,
            outcomes=observed,
        )
        c.evaluation = "full"
        if sized is None:
            pred = full_predict(c.cfg, self.traffic, self.traffic.peak_qps / max_n, cal, observed)
            c.prediction = pred
            what = self._miss_text(pred)
            c.violations.append(
                Violation(
                    "target_ttft_p90_ms",
                    c.ttft,
                    self.targets.ttft_p90_ms,
                    f"{what} even with {max_n} replicas",
                )
            )
            return
        assert sized.prediction is not None  # size_full predicts the count it returns when asked to
        c.n_peak = sized.replicas
        c.prediction = sized.prediction
        steady_start = max(
            1, math.ceil(sized.replicas * self.traffic.steady_qps / self.traffic.peak_qps - 1e-9)
        )
        steady = size_full(
            c.cfg,
            self.traffic,
            self.sizing_targets,
            self.traffic.steady_qps,
            steady_start,
            max_replicas=sized.replicas,
            calibration=cal,
            need_prediction=False,  # only the count is used
            outcomes=observed,
        )
        c.n_steady = steady.replicas if steady else sized.replicas
        c.spare, c.headroom_text = headroom(c.n_peak, self.spec.reliability_target)
        c.ttft, c.tpot, c.e2e = slo_values(sized.prediction, self.traffic)
        per_replica = self.traffic.peak_qps / c.n_peak
        upper = self.traffic.peak_qps / (c.n_peak - 1) if c.n_peak > 1 else math.inf
        c.slo_rps = max(per_replica, min(c.slo_rps, upper))
        self.apply_post_sizing_checks(c)

    def outcomes_of(self, c: Candidate) -> ConfigOutcomes | None:
        """The observed outcomes correcting this candidate's predictions, if any."""
        return outcomes_of(c.cfg, self.catalog.outcomes)

    def _miss_text(self, pred: Prediction) -> str:
        if not pred.fits or pred.ttft_ms is None:
            return pred.reason or "does not fit"
        ttft, tpot, e2e = slo_values(pred, self.traffic)
        t, m = self.targets, self.sizing_targets
        parts = []
        for label, value, target, with_m in (
            ("TTFT p90", ttft, t.ttft_p90_ms, m.ttft_p90_ms),
            ("TPOT p90", tpot, t.tpot_p90_ms, m.tpot_p90_ms),
            ("E2E p95", e2e, t.e2e_p95_ms, m.e2e_p95_ms),
        ):
            if value > target:
                parts.append(f"predicted {label} {explain.ms(value)} > {explain.ms(target)} target")
            elif value > with_m:
                parts.append(
                    f"predicted {label} {explain.ms(value)} within the {SLO_SAFETY_MARGIN:.0%} safety margin "
                    f"of the {explain.ms(target)} target"
                )
        return "; ".join(parts) or "the targets are not met"

    def select_and_evaluate(self, cands: list[Candidate]) -> list[Candidate]:
        eligible = self.sort([c for c in cands if not c.violations])
        preferred = set(self.spec.preferred_models)
        verified: list[Candidate] = []
        evaluated = 0
        done_pairs: set[tuple[str, str]] = set()
        first_of_preferred: list[Candidate] = []
        seen_models: set[str] = set()
        for c in eligible:
            if c.cfg.model_id in preferred and c.cfg.model_id not in seen_models:
                seen_models.add(c.cfg.model_id)
                first_of_preferred.append(c)
        queue = first_of_preferred + [c for c in eligible if c not in first_of_preferred]
        s = self.settings
        per_model: dict[str, int] = {}
        for c in queue:
            if evaluated >= s.max_finalists:
                break
            pairs_ok = {v.pair for v in verified}
            # Top places one model may fill (Planner.diversify): stop once the top list can be diverse.
            slots = sum(min(n, MAX_TOP_PER_MODEL) for n in per_model.values())
            if evaluated >= s.min_finalists and len(pairs_ok) >= s.top_k and self.spec.priority != "cost":
                if slots >= s.top_k:
                    break
                if per_model.get(c.cfg.model_id, 0) >= MAX_TOP_PER_MODEL:
                    continue  # this model already fills its places; look for another model
            elif evaluated >= s.min_finalists and len(pairs_ok) >= s.top_k:
                kth = sorted(self.cost_key(v) for v in verified)[s.top_k - 1]
                if 0.75 * self.cost_key(c) >= kth:
                    break
                if c.cfg.model_id not in preferred and self.cannot_reach_top(c, verified):
                    continue
            if self.spec.priority != "cost" and c.pair in done_pairs:
                continue
            if self.spec.priority == "cost" and c.pair in pairs_ok and self.cannot_beat_pair(c, verified):
                continue  # the pair shows its cheapest configuration, and this one cannot be it
            self.evaluate(c)
            evaluated += 1
            done_pairs.add(c.pair)
            if not c.violations:
                verified.append(c)
                if c.pair not in pairs_ok:
                    per_model[c.cfg.model_id] = per_model.get(c.cfg.model_id, 0) + 1
        self.timings["full_evaluations"] = float(evaluated)
        return verified

    def cannot_reach_top(self, c: Candidate, verified: list[Candidate]) -> bool:
        """True when even one replica (plus headroom) of ``c`` would cost more than the k-th best verified
        model/GPU pair: the full model cannot bring it into the top options, so it is not run (the pair is
        still listed among the viable ones from the screen). Costs only grow with the replica count."""
        if self.spec.batch_items is not None:
            return False  # a batch run's cost depends on its throughput: no bound from one replica
        # Ranked by (cost, better quality): a candidate tied on cost with the k-th pair but no better a model
        # cannot pass it either.
        best: dict[tuple[str, str], tuple[float, float]] = {}
        for v in verified:
            key = (self.cost_key(v), -v.quality.index)
            if key < best.get(v.pair, (math.inf, 0.0)):
                best[v.pair] = key
        k = self.settings.top_k
        if len(best) < k:
            return False
        kth = sorted(best.values())[k - 1]
        spare, _ = headroom(1, self.spec.reliability_target)
        gpus = c.cfg.tp * (1 + spare)
        floor = self.cost_of_counts(c.cfg.gpu_id, gpus, gpus)
        if floor is None:
            return False
        money = floor.monthly_usd
        bound = gpus * 1e9 + money if self.spec.deployment_model == "owned_hardware" else money
        return (bound, -c.quality.index) > kth

    def cannot_beat_pair(self, c: Candidate, verified: list[Candidate]) -> bool:
        """True when even one replica (plus headroom) of ``c`` costs more than its (model, GPU)'s cheapest
        verified configuration (or the same, with no better quality): it cannot be the one the pair shows."""
        if self.spec.batch_items is not None:
            return False
        held = min(((self.cost_key(v), -v.quality.index) for v in verified if v.pair == c.pair), default=None)
        if held is None:
            return False
        spare, _ = headroom(1, self.spec.reliability_target)
        gpus = c.cfg.tp * (1 + spare)
        floor = self.cost_of_counts(c.cfg.gpu_id, gpus, gpus)
        if floor is None:
            return False
        bound = (
            gpus * 1e9 + floor.monthly_usd
            if self.spec.deployment_model == "owned_hardware"
            else floor.monthly_usd
        )
        return (bound, -c.quality.index) >= held

    def as_batch(self, c: Candidate, cost: Cost, gpus: int) -> Cost:
        """A rental of ``gpus`` GPUs priced as batch runs when the load is a batch job (else unchanged)."""
        if self.spec.batch_items is None or cost.deployment_model != "cloud_rental":
            return cost
        return batch_cost(
            cost,
            items=self.spec.batch_items,
            # The rate the run was sized and its latency predicted at, not the replicas' saturation
            # throughput: one throughput for the GPU-hours, the utilisation and the latency shown.
            rate_rps=self.traffic.peak_qps,
            gpus=gpus,
            weight_bytes=weight_bytes(c.cfg.arch, c.cfg.precision),
            runs_per_month=self.spec.batch_runs_per_month or DEFAULT_RUNS_PER_MONTH,
            window_hours=self.spec.batch_window_hours,
            tokens_per_item=self.traffic.tokens_per_request,
        )

    def default_spare_note(self, c: Candidate) -> str:
        """The spare replicas the default (not stated) availability target adds, and the cost without them,
        so the person can decide whether the margin is worth it."""
        gpus = c.spare * c.cfg.tp
        what = (
            f"+{c.spare} spare replica{'s' if c.spare > 1 else ''} ({gpus} GPU{'s' if gpus > 1 else ''}) for "
            f"the {self.spec.reliability_target:g}% default availability (not stated)"
        )
        bare = self.cost_of_counts(c.cfg.gpu_id, c.cfg.tp * c.n_steady, c.cfg.tp * c.n_peak)
        if bare is None:
            return what
        bare = self.as_batch(c, bare, c.cfg.tp * c.n_peak)
        if self.spec.deployment_model == "owned_hardware" and not bare.monthly_usd:
            return f"{what}; {c.cfg.tp * c.n_peak} GPUs without it"
        return f"{what}; ${bare.monthly_usd:,.0f}/month without it"

    def cost_of_counts(self, gpu_id: str, steady: int, total: int) -> Cost | None:
        key = (gpu_id, steady, total)
        if key not in self._costs:
            self._costs[key] = self._cost(*key)
        return self._costs[key]

    # --- the whole run -----------------------------------------------------------------------------------

    def run(self) -> RecommendationResult:
        t0 = time.perf_counter()
        cands = self.build_candidates()
        t1 = time.perf_counter()
        # Candidates already out on quality are screened only when nothing fits (for the relaxations).
        later = [c for c in cands if c.violations]
        self.run_screen([c for c in cands if not c.violations])
        t2 = time.perf_counter()
        verified = self.select_and_evaluate(cands)
        if not verified:
            self.run_screen(later)
        t3 = time.perf_counter()
        ranked = self.rank(verified)
        self.all_candidates = cands
        ranked_pairs = {v.pair for v in ranked}
        screened_viable = self.best_per_pair(
            self.sort(
                [
                    c
                    for c in cands
                    if not c.violations and c.evaluation == "screened" and c.pair not in ranked_pairs
                ]
            )
        )
        options = [self.to_option(c, i + 1, ranked) for i, c in enumerate(ranked)]
        top = options[: self.settings.top_k]
        # The Pareto front over every viable configuration, from the numbers their options would show; only
        # the options that are kept (on the front, or among the first ranks) are built and explained.
        first_extra = len(options) + 1
        points = [explain.pareto_point(o, self.latency_of(o)) for o in options] + [
            self.screened_point(c, first_extra + i) for i, c in enumerate(screened_viable)
        ]
        pareto = explain.pareto_front(points)
        keep = set(pareto)
        limit = self.settings.top_k + self.settings.viable_limit
        extra = [
            self.to_option(c, first_extra + i, ranked)
            for i, c in enumerate(screened_viable)
            if first_extra + i in keep or first_extra + i <= limit
        ]
        viable = [o for o in options[self.settings.top_k :] if o.rank in keep or o.rank <= limit] + extra
        rejected, misses = self.rejections(cands)
        relax = explain.relaxations(self, cands) if not top else []
        message = None
        if not top:
            message = explain.nothing_message(self, cands)
        result = RecommendationResult(
            specification=self.spec.model_dump(mode="json"),
            traffic=self.derivation,
            options=top,
            rejected=rejected,
            pareto=sorted(pareto),
            viable=viable,
            relax=relax,
            message=message,
            nearest_misses=misses if not top else [],
            rejected_count=len({(r.model_id, r.gpu_id) for r in rejected}),
            candidates_considered=len(cands) + len(self.memory_rejections),
        )
        t4 = time.perf_counter()
        self.timings.update(
            {
                "candidates_ms": (t1 - t0) * 1e3,
                "screen_ms": (t2 - t1) * 1e3,
                "full_model_ms": (t3 - t2) * 1e3,
                "explain_ms": (t4 - t3) * 1e3,
            }
        )
        result.timings_ms = {k: round(v, 2) for k, v in self.timings.items()}
        return result

    def screened_point(self, c: Candidate, rank: int) -> tuple[float, float, float, int]:
        """``explain.pareto_point`` of the option ``to_option`` would build for a screened candidate."""
        assert c.cost is not None
        t = self.targets
        cost = (
            float(c.gpus_total)
            if c.cost.deployment_model == "owned_hardware" and not c.cost.monthly_usd
            else c.cost.monthly_usd
        )
        latency = (
            round(c.ttft, 3) / t.ttft_p90_ms
            + round(c.tpot, 3) / t.tpot_p90_ms
            + round(c.e2e, 3) / t.e2e_p95_ms
        ) / 3.0
        return (cost, latency, -c.quality.index, rank)

    def latency_of(self, o: Option) -> float:
        t = self.targets
        checks = {s.metric: s.predicted for s in o.slo_checks}
        return (
            checks.get("ttft_p90_ms", 0) / t.ttft_p90_ms
            + checks.get("tpot_p90_ms", 0) / t.tpot_p90_ms
            + checks.get("e2e_p95_ms", 0) / t.e2e_p95_ms
        ) / 3.0

    def best_per_pair(self, ordered: list[Candidate]) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[tuple[str, str]] = set()
        for c in ordered:
            if c.pair not in seen:
                seen.add(c.pair)
                out.append(c)
        return out

    def cheapest_per_pair(self, verified: list[Candidate]) -> list[Candidate]:
        """Each (model, GPU)'s cheapest configuration that meets the targets (better model, then faster, on
        a tie); its faster variants become alternatives under it (``alternatives``)."""
        best: dict[tuple[str, str], Candidate] = {}
        for c in verified:
            key = (self.cost_key(c), -c.quality.index, self.latency_key(c))
            held = best.get(c.pair)
            if held is None or key < (self.cost_key(held), -held.quality.index, self.latency_key(held)):
                best[c.pair] = c
        return list(best.values())

    def rank(self, verified: list[Candidate]) -> list[Candidate]:
        ordered = self.sort(self.cheapest_per_pair(verified))
        preferred = set(self.spec.preferred_models)
        if preferred:
            ordered = [c for c in ordered if c.cfg.model_id in preferred] + [
                c for c in ordered if c.cfg.model_id not in preferred
            ]
        ordered = self.diversify(ordered)
        for i, c in enumerate(ordered):
            c.rank = i + 1
        return ordered

    def diversify(self, ordered: list[Candidate]) -> list[Candidate]:
        """Keep the order, but let one model take at most MAX_TOP_PER_MODEL of the top places.

        Five GPUs for the same model tell a person less than the best few models; the rest still follow
        (and stay in the viable list and the plot). The first option never moves.
        """
        top: list[Candidate] = []
        later: list[Candidate] = []
        per_model: dict[str, int] = {}
        for c in ordered:
            n = per_model.get(c.cfg.model_id, 0)
            if len(top) < self.settings.top_k and n < MAX_TOP_PER_MODEL:
                top.append(c)
                per_model[c.cfg.model_id] = n + 1
            else:
                later.append(c)
        return top + later

    def to_option(self, c: Candidate, rank: int, ranked: list[Candidate]) -> Option:
        c.rank = rank
        assert c.cost is not None
        model = self.catalog.models[c.cfg.model_id]
        if c.prediction is not None and c.prediction.ttft_ms is not None:
            p = c.prediction
            assert p.tpot_ms is not None and p.e2e_ms is not None
            ttft, tpot, e2e, itl = p.ttft_ms, p.tpot_ms, p.e2e_ms, p.itl_ms
            checks = slo_checks(p, self.traffic, self.targets, c.slo_rps * c.n_peak)
            basis, interval = p.basis, p.interval
            tokens_s = float(p.output_tokens_per_s or 0.0)
        else:
            ttft, tpot, e2e, itl = Stats.constant(c.ttft), Stats.constant(c.tpot), Stats.constant(c.e2e), None
            checks = explain.screened_checks(self, c)
            basis, interval = "estimated", None
            tokens_s = self.traffic.peak_qps / max(c.n_peak, 1) * self.traffic.output_tokens.mean
        observed = self.outcomes_of(c)
        verdict = "meets"
        if any(s.verdict == "misses" for s in checks):
            verdict = "misses"
        elif any(s.verdict == "uncertain" for s in checks):
            verdict = "uncertain"
        option = Option(
            rank=rank,
            model_id=c.cfg.model_id,
            model_family=model.family,
            gpu_id=c.cfg.gpu_id,
            precision=c.cfg.precision,
            engine=c.cfg.engine,
            tp=c.cfg.tp,
            replicas=c.n_peak + c.spare,
            min_replicas=c.n_steady + c.spare,
            max_replicas=c.n_peak + c.spare,
            gpus_total=c.gpus_total,
            headroom=c.headroom_text,
            ttft_ms=ttft,
            tpot_ms=tpot,
            itl_ms=itl,
            e2e_ms=e2e,
            output_tokens_per_s=round(tokens_s, 2),
            requests_per_s_capacity=round(c.slo_rps, 3),
            basis=basis,
            interval=interval,
            slo_checks=checks,
            cost=c.cost,
            quality=c.quality,
            max_concurrency=c.cfg.max_batch,
            kv_cache_tokens=c.cfg.kv_cache_tokens,
            checkpoint=self.checkpoint(model, c.cfg.precision),
            vllm_args=self.vllm_args(c, model),
            rationale="",
            verdict=verdict,
            evaluation=c.evaluation,
            corrected_by_outcomes=observed.n_outcomes if observed is not None else 0,
            flags=list(c.flags),
        )
        replicas = c.n_peak + c.spare
        if c.capacity_rps > 0:
            option.utilization_at_peak = round(self.traffic.peak_qps / (replicas * c.capacity_rps), 4)
        if c.slo_rps > 0:
            option.slo_headroom = round(replicas * c.slo_rps / self.traffic.peak_qps - 1.0, 4)
        if rank <= self.settings.top_k:
            option.alternatives = self.alternatives(c)
            option.vs_cheaper = explain.vs_next_cheaper(self, c, ranked)
        option.rationale = explain.rationale(self, c, option, ranked)
        return option

    def alternatives(self, c: Candidate, limit: int = 2) -> list[Alternative]:
        """Faster variants of ``c``'s model that also meet the targets (other GPU, TP or precision): the
        cheapest of them and the fastest, with what the extra money buys."""
        base_cost = self.cost_key(c)
        base_lat = self.latency_key(c)
        if self._viable_by_model is None:
            # Indexed once per run (a large catalog has tens of thousands of candidates, and every top
            # option looks for its variants); candidates are final by the time options are built.
            self._viable_by_model = {}
            for v in self.all_candidates:
                if not v.violations:
                    self._viable_by_model.setdefault(v.cfg.model_id, []).append(v)
        faster = [
            v
            for v in self._viable_by_model.get(c.cfg.model_id, [])
            if v is not c
            and v.cost is not None
            and self.cost_key(v) > base_cost
            and self.latency_key(v) < 0.8 * base_lat
        ]
        if not faster or c.cost is None:
            return []
        by_cost = sorted(faster, key=self.cost_key)
        picks = [by_cost[0]]
        fastest = min(faster, key=self.latency_key)
        if fastest is not picks[0]:
            picks.append(fastest)
        out = []
        for v in picks[:limit]:
            assert v.cost is not None
            extra = v.cost.monthly_usd - c.cost.monthly_usd
            gains = []
            for label, mine, theirs in (
                ("TTFT p90", c.ttft, v.ttft),
                ("TPOT p90", c.tpot, v.tpot),
                ("E2E p95", c.e2e, v.e2e),
            ):
                if theirs < 0.9 * mine:
                    gains.append(f"{label} {explain.ms(mine)} → {explain.ms(theirs)}")
            dq = v.quality.index - c.quality.index
            if abs(dq) >= 1:
                gains.append(f"quality {dq:+.0f}")
            out.append(
                Alternative(
                    gpu_id=v.cfg.gpu_id,
                    precision=v.cfg.precision,
                    tp=v.cfg.tp,
                    gpus_total=v.gpus_total,
                    monthly_usd=v.cost.monthly_usd,
                    extra_monthly_usd=round(extra, 2),
                    ttft_p90_ms=round(v.ttft, 3),
                    tpot_p90_ms=round(v.tpot, 3),
                    e2e_p95_ms=round(v.e2e, 3),
                    buys=(f"+${extra:,.0f}/month buys " + ", ".join(gains or ["lower latency"]))
                    + ("" if v.evaluation == "full" else " (screened estimate)"),
                    evaluation="full" if v.evaluation == "full" else "screened",
                )
            )
        return out

    def context_needed(self) -> int:
        """Tokens a p95 request needs: p95 prompt + p95 reply (means when no p95 is given)."""
        spec = self.spec
        return feasibility.tokens_needed_p95(
            spec.prompt_length_p95 or spec.prompt_length_avg,
            spec.generation_length_p95 or spec.generation_length_avg,
        )

    @staticmethod
    def context_window(model: ModelEntry) -> int | None:
        return model.context_window or model.arch.max_position_embeddings

    @staticmethod
    def checkpoint(model: ModelEntry, precision: str) -> Checkpoint | None:
        return feasibility.serving_checkpoint(model.id, precision, model.checkpoints)

    def vllm_args(self, c: Candidate, model: ModelEntry) -> dict[str, Any]:
        inp, out = self.traffic.input_tokens, self.traffic.output_tokens
        max_len = feasibility.max_model_len(
            self.context_window(model), self.context_needed(), int(inp.upper + out.upper)
        )
        args: dict[str, Any] = {
            "tensor_parallel_size": c.cfg.tp,
            "max_model_len": max_len,
            "max_num_seqs": min(256, max(1, c.cfg.max_batch)),
            "max_num_batched_tokens": MAX_BATCHED_TOKENS,
            "gpu_memory_utilization": GPU_MEMORY_UTILIZATION,
        }
        checkpoint = self.checkpoint(model, c.cfg.precision)
        if checkpoint is not None and checkpoint.quantization:
            args["quantization"] = checkpoint.quantization
        if c.cfg.precision in ("fp16", "bf16"):
            args["dtype"] = "float16" if c.cfg.precision == "fp16" else "bfloat16"
        return args

    def rejections(self, cands: list[Candidate]) -> tuple[list[Rejected], list[Rejected]]:
        return explain.rejections(self, cands)


def _is_sxm(gpu: GpuEntry) -> bool:
    """An SXM/OAM part (NVLink or Infinity Fabric board), which a PCIe/NVL card's price must not stand for."""
    name = gpu.id.upper()
    return gpu.spec.interconnect in ("nvlink", "xgmi") and "PCIE" not in name and "NVL" not in name


_TP_CACHE: dict[tuple[object, ...], tuple[list[tuple[int, int, int]], str]] = {}


def _fitting_tps(
    arch: ModelArch, gpu: GpuSpec, precision: str, engine: str, wl: Any, max_tp: int
) -> tuple[list[tuple[int, int, int]], str]:
    """(TP, max concurrency, KV tokens) of each tensor-parallel degree that fits, up to 2 × the smallest."""
    key = (
        arch.id,
        arch.num_hidden_layers,
        arch.hidden_size,
        gpu.id,
        gpu.memory_gb,
        precision,
        engine,
        wl,
        max_tp,
    )
    hit = _TP_CACHE.get(key)
    if hit is not None:
        return hit
    fitting: list[tuple[int, int, int]] = []
    last_reason = "no tensor-parallel degree splits this model"
    for tp in valid_tp_degrees(arch, max_tp):
        if fitting and tp > fitting[0][0] * 2:
            break
        reason, conc, kv = memory_fit(arch, gpu, tp, precision, engine, wl)
        if reason is None:
            fitting.append((tp, conc, kv))
        else:
            last_reason = reason
    if len(_TP_CACHE) > 100_000:
        _TP_CACHE.clear()
    _TP_CACHE[key] = (fitting, last_reason)
    return fitting, last_reason


_SIZE_FIELDS = {"max_gpus", "gpu_inventory", "cloud_provider", "max_monthly_cost_usd", "max_hourly_cost_usd"}


def plan(
    spec: Specification, catalog: PlanCatalog, settings: PlanSettings | None = None
) -> RecommendationResult:
    """Rank deployment options for ``spec`` over ``catalog`` (pure: no I/O)."""
    return Planner(spec, catalog, settings or PlanSettings()).run()
