"""Use-case templates: find the closest one, and resolve an intent into an editable Specification.

- :func:`apply_template` is pure: intent + template -> :class:`Specification`. Stated values keep origin
  ``stated``; everything else comes from the template (origin ``template``), with SLOs scaled by the
  priority, and load derived from the user population through :func:`users_to_qps`.
- The closest template by meaning is looked up by the service layer (``app.services.intent_data``, pgvector)
  and passed in: this module does no I/O beyond reading the bundled seed file.
- :func:`seed_templates` reads the curated templates from ``seed/data/usecases.json`` without a database,
  for the CLI's ``extract --resolve`` and for tests.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.errors import Unavailable
from app.intent.schema import (
    DEFAULT_AMORTIZATION_MONTHS,
    DEFAULT_PUE,
    REQUESTS_PER_DAILY_USER,
    DeploymentIntent,
    Specification,
    derive_load,
)
from seed.schemas import UseCaseRow

_SEED_FILE = Path(__file__).resolve().parents[2] / "seed" / "data" / "usecases.json"

# How a stated priority scales the template's latency targets (smaller = stricter). Latency-first tightens
# them; cost-first relaxes them so cheaper configurations qualify; accuracy-first relaxes a little to make
# room for larger models. Quality moves one step up for accuracy.
PRIORITY_SLO_SCALE = {"latency": 0.7, "balanced": 1.0, "cost": 1.5, "accuracy": 1.2}
_QUALITY_UP = {"standard": "high", "high": "very_high", "very_high": "very_high"}
# With no users and no rate stated, size for a small team so the planner has something to work with.
ASSUMED_USERS = 100


class TemplateNotFound(Unavailable, LookupError):
    """No use-case template is available (the database is empty and no seed file was found)."""


def template_from_row(row: Any) -> UseCaseRow:
    """A database ``UseCaseTemplate`` row (slos and traffic as JSON) as a validated :class:`UseCaseRow`."""
    data: dict[str, Any] = {
        "id": row.id,
        "task_type": row.task_type,
        "name": row.name,
        "description": row.description,
        "examples": list(row.examples or []),
        "source": row.source,
        "reason": row.reason,
    }
    data.update(row.slos or {})
    data.update(row.traffic or {})
    allowed = set(UseCaseRow.model_fields)
    return UseCaseRow.model_validate({k: v for k, v in data.items() if k in allowed})


@lru_cache(maxsize=1)
def seed_templates() -> tuple[UseCaseRow, ...]:
    if not _SEED_FILE.is_file():
        raise TemplateNotFound(f"no use-case templates: {_SEED_FILE} is missing")
    raw = json.loads(_SEED_FILE.read_text(encoding="utf-8"))
    rows = raw.get("rows", raw) if isinstance(raw, dict) else raw
    return tuple(UseCaseRow.model_validate(r) for r in rows)


def template_for_task(task_type: str | None) -> UseCaseRow:
    """The seed template for a task type; the chatbot template when the task is unknown."""
    templates = seed_templates()
    for t in templates:
        if t.task_type == (task_type or "chatbot"):
            return t
    return templates[0]


def _reconcile_e2e(values: dict[str, Any], origins: dict[str, str], notes: dict[str, str]) -> None:
    """Keep a template's end-to-end target reachable together with its TTFT and TPOT targets.

    Some templates (the seed design's among them) pair a 2 s end-to-end p95 with a 50 ms per-token target
    and 200-token replies, which no deployment can meet at once: the reply alone takes ~10 s. For streamed
    replies people feel TTFT and TPOT, so a *template* end-to-end target is raised to what those two
    imply (TTFT + output tokens × TPOT); a stated one is never touched.
    """
    if origins.get("target_e2e_latency_p95_ms") != "template" or not values.get("streaming", True):
        return
    # E2E p95 is over the reply lengths: the p95 reply (when the template gives one) must fit in it.
    tokens = values.get("generation_length_p95") or values["generation_length_avg"]
    implied = values["target_ttft_p90_ms"] + tokens * values["target_tpot_p90_ms"]
    implied = math.ceil(implied / 100.0) * 100.0
    current = values["target_e2e_latency_p95_ms"]
    if implied > current:
        values["target_e2e_latency_p95_ms"] = implied
        before = notes.get("target_e2e_latency_p95_ms", "template")
        notes["target_e2e_latency_p95_ms"] = (
            f"{before}; raised from {current:g} ms to {implied:g} ms so a streamed {tokens}-token reply "
            "within the TTFT and TPOT targets meets it"
        )


def apply_template(
    intent: DeploymentIntent,
    template: UseCaseRow,
    *,
    similarity: float | None = None,
    unknown_fields: frozenset[str] = frozenset(),
) -> Specification:
    """Resolve ``intent`` into a Specification, filling unstated fields from ``template``.

    ``unknown_fields`` are fields the person answered "I don't know" to; their defaults are labelled so.
    """
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    notes: dict[str, str] = {}

    def stated(name: str, value: Any) -> None:
        values[name] = value
        origins[name] = "stated"

    def default(name: str, value: Any, note: str | None = None) -> None:
        values[name] = value
        origins[name] = "template"
        label = f"from the '{template.id}' template"
        if name in unknown_fields:
            label = "default (you said you don't know); " + label
        notes[name] = f"{label}: {note}" if note else label

    for name in (
        "use_case_description",
        "subject_matter",
        "cloud_provider",
        "region",
        "max_gpus",
        "target_throughput_rps",
        "concurrent_users",
        "daily_users",
        "total_users",
        "batch_items",
        "batch_window_hours",
        "batch_runs_per_month",
        "price_class",
        "quality_reference_model",
    ):
        value = getattr(intent, name)
        if value is not None:
            stated(name, value)
    for name in ("preferred_models", "available_gpus", "excluded_gpus"):
        value = getattr(intent, name)
        if value:
            stated(name, list(value))
    if intent.gpu_inventory:
        stated("gpu_inventory", [item.model_dump() for item in intent.gpu_inventory])

    if intent.task_type is not None:
        stated("task_type", intent.task_type)
    else:
        default("task_type", template.task_type, "closest use case to the description")
    priority = intent.priority or "balanced"
    if intent.priority is not None:
        stated("priority", priority)
    else:
        default("priority", priority, "no priority stated")
    scale = PRIORITY_SLO_SCALE[priority]
    why = f"{priority} priority × {scale:g}" if scale != 1.0 else None

    def slo(name: str, stated_value: float | None, template_value: float) -> None:
        if stated_value is not None:
            stated(name, stated_value)
        else:
            base = f"{template_value:g} ms"
            default(name, round(template_value * scale, 1), f"{base}, {why}" if why else base)

    slo("target_ttft_p90_ms", intent.target_ttft_p90_ms, template.ttft_p90_ms)
    slo("target_tpot_p90_ms", intent.target_tpot_p90_ms, template.tpot_p90_ms)
    slo("target_e2e_latency_p95_ms", intent.target_e2e_latency_p95_ms, template.e2e_p95_ms)
    if intent.quality_threshold is not None:
        stated("quality_threshold", intent.quality_threshold)
    elif priority == "accuracy":
        default(
            "quality_threshold", _QUALITY_UP[template.quality], f"{template.quality}, raised for accuracy"
        )
    else:
        default("quality_threshold", template.quality)
    if intent.reliability_target is not None:
        stated("reliability_target", intent.reliability_target)
    else:
        default("reliability_target", template.reliability_pct)

    for name, tvalue in (
        ("prompt_length_avg", template.prompt_length_avg),
        ("generation_length_avg", template.generation_length_avg),
    ):
        svalue = getattr(intent, name)
        if svalue is not None:
            stated(name, svalue)
        else:
            default(name, tvalue)
    # p95 lengths only make sense next to the template's own averages.
    if intent.prompt_length_avg is None and template.prompt_length_p95:
        default("prompt_length_p95", template.prompt_length_p95)
    if intent.generation_length_avg is None and template.generation_length_p95:
        default("generation_length_p95", template.generation_length_p95)
    if intent.burstiness_pattern is not None:
        stated("burstiness_pattern", intent.burstiness_pattern)
    else:
        default("burstiness_pattern", template.burstiness)
    default("streaming", template.streaming)
    _reconcile_e2e(values, origins, notes)

    derivation = None
    if intent.batch_items is not None and intent.batch_window_hours is None:
        default("batch_window_hours", 24.0 * 30 / (intent.batch_runs_per_month or 30.0), "one run per period")
    reading = derive_load(
        concurrent_users=intent.concurrent_users,
        daily_users=intent.daily_users,
        total_users=intent.total_users,
        batch_items=intent.batch_items,
        batch_window_hours=values.get("batch_window_hours"),
        batch_runs_per_month=intent.batch_runs_per_month,
        active_fraction=template.active_fraction,
        requests_per_active_user_per_min=template.requests_per_active_user_per_minute,
        peak_multiplier=template.peak_multiplier,
        requests_per_user_per_day=REQUESTS_PER_DAILY_USER.get(template.task_type),
    )
    if intent.expected_qps is not None and (reading is None or reading.kind != "batch"):
        stated("expected_qps", intent.expected_qps)
        peak = max(intent.expected_qps * template.peak_multiplier, intent.target_throughput_rps or 0.0)
        default("peak_qps", round(peak, 4), f"stated QPS × {template.peak_multiplier:g} peak multiplier")
    elif reading is None and intent.target_throughput_rps is not None:
        rps = intent.target_throughput_rps
        default(
            "expected_qps",
            round(rps / template.peak_multiplier, 4),
            f"stated peak throughput ÷ {template.peak_multiplier:g} peak multiplier",
        )
        default("peak_qps", rps, "the stated throughput")
    else:
        if reading is None:
            default("total_users", ASSUMED_USERS, "no users or request rate stated; assumed")
            reading = derive_load(
                concurrent_users=None,
                daily_users=None,
                total_users=ASSUMED_USERS,
                batch_items=None,
                batch_window_hours=None,
                batch_runs_per_month=None,
                active_fraction=template.active_fraction,
                requests_per_active_user_per_min=template.requests_per_active_user_per_minute,
                peak_multiplier=template.peak_multiplier,
                requests_per_user_per_day=None,
            )
            assert reading is not None
        derivation = reading
        steady = max(round(derivation.steady_qps, 4), 0.0001)
        default("expected_qps", steady, derivation.explanation)
        peak = max(steady, round(derivation.peak_qps, 4), intent.target_throughput_rps or 0.0)
        default("peak_qps", peak, derivation.explanation)

    budget = intent.budget
    if budget is not None and budget.max_monthly_cost_usd is not None:
        stated("max_monthly_cost_usd", budget.max_monthly_cost_usd)
    if budget is not None and budget.max_hourly_cost_usd is not None:
        stated("max_hourly_cost_usd", budget.max_hourly_cost_usd)
    if intent.deployment_model is not None:
        stated("deployment_model", intent.deployment_model)
    else:
        values["deployment_model"] = "owned_hardware" if intent.gpu_inventory else "cloud_rental"
        origins["deployment_model"] = "template"
        notes["deployment_model"] = "no deployment model stated"
    dc = intent.datacenter_context
    if dc is not None and dc.power_cost_per_kwh is not None:
        stated("power_cost_per_kwh", dc.power_cost_per_kwh)
    if dc is not None and dc.cooling_overhead_pue is not None:
        stated("cooling_overhead_pue", dc.cooling_overhead_pue)
    else:
        values["cooling_overhead_pue"] = DEFAULT_PUE
        origins["cooling_overhead_pue"] = "template"
        notes["cooling_overhead_pue"] = "typical datacenter PUE"
    if dc is not None and dc.amortization_period_months is not None:
        stated("amortization_period_months", dc.amortization_period_months)
    else:
        values["amortization_period_months"] = DEFAULT_AMORTIZATION_MONTHS
        origins["amortization_period_months"] = "template"
        notes["amortization_period_months"] = "typical write-off period"

    return Specification.model_validate(
        {
            **values,
            "template_id": template.id,
            "template_similarity": similarity,
            "qps_derivation": derivation,
            "origins": origins,
            "notes": notes,
        }
    )


def search_text(intent: DeploymentIntent) -> str:
    """The words a template is searched by."""
    return intent.use_case_description or intent.task_type or "chatbot"
