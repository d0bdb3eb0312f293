"""Observation of one deployment: window stats, SLO compliance, predicted vs observed, health and advice.

This is what the deployment engine, the chat, the CLI and the API call. The deployment row supplies the
specification (SLO targets, planned traffic) and the prediction made at recommendation time (an ``Option``
dump); both may be empty, in which case only the parts that need them are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal, audit
from app.errors import NotFound
from app.observe.advice import Advice, PlanFacts, advise
from app.observe.metrics import WindowStats, window_stats
from app.observe.scrape import deployment_targets, load_series, scrape_states
from app.observe.slo import (
    Comparison,
    Compliance,
    Health,
    Slo,
    compliance,
    predicted_vs_observed,
    runtime_health,
    slos_from_specification,
)
from app.perf.errors import PlanningError
from app.perf.observed import ObservedLoad, predict_at_load
from app.planning.catalog import default_catalog
from app.planning.perf_context import default_calibration
from db import models as m

# Runs ``fn(*args)`` off the event loop (the service layer's worker pool).
Offload = Callable[..., Awaitable[Any]]


class DeploymentNotFoundError(NotFound, LookupError):
    """No deployment has this id."""


class Observation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment_id: str
    at: datetime
    window_s: float
    health: Health
    stats: WindowStats | None
    compliance: Compliance | None
    predicted_vs_observed: list[Comparison] = Field(
        default_factory=list, description="as planned: the recommendation's prediction at the planned traffic"
    )
    observed_load: ObservedLoad | None = Field(default=None, description="per replica, over the window")
    predicted_at_observed_load: list[Comparison] = Field(
        default_factory=list,
        description="predicted at observed load: the model re-run at the rate and lengths actually served",
    )
    advice: list[Advice] = Field(default_factory=list)
    samples_stored: int = 0


def observed_values(stats: WindowStats, replicas: int = 1) -> dict[str, Any]:
    """Window stats in the shape of a prediction (throughput per replica, as the Option states it)."""
    per = max(replicas, 1)
    return {
        "ttft_ms": stats.ttft_ms.model_dump(),
        "itl_ms": stats.itl_ms.model_dump(),
        "tpot_ms": stats.tpot_ms.model_dump(),
        "e2e_ms": stats.e2e_ms.model_dump(),
        "output_tokens_per_s": stats.output_tokens_per_s / per,
        "requests_per_s": stats.request_rate / per,
    }


def plan_facts(dep: m.Deployment, replicas: int | None = None) -> PlanFacts:
    pred: dict[str, Any] = dep.prediction or {}
    spec: dict[str, Any] = dep.specification or {}
    planned = int(pred.get("min_replicas") or pred.get("replicas") or 1)
    cost = pred.get("cost") or {}
    hourly = cost.get("hourly_usd") if isinstance(cost, dict) else None
    return PlanFacts(
        replicas=replicas or planned,
        gpu_id=pred.get("gpu_id"),
        capacity_rps_per_replica=pred.get("requests_per_s_capacity"),
        hourly_usd_per_replica=(float(hourly) / planned) if hourly else None,
        expected_qps=spec.get("expected_qps"),
        peak_qps=spec.get("peak_qps"),
        prompt_tokens_avg=spec.get("prompt_length_avg"),
        output_tokens_avg=spec.get("generation_length_avg"),
    )


PLANNED_LOAD_TOLERANCE = 0.25  # observed per-replica rate within ±25% of the planned one


def _at_planned_load(dep: m.Deployment, stats: WindowStats, replicas: int) -> bool:
    """Whether the window's traffic is close to what the prediction was made for (unknown plan: assume so)."""
    planned = (dep.specification or {}).get("expected_qps")
    if not planned:
        return True
    planned_replicas = int(
        (dep.prediction or {}).get("min_replicas") or (dep.prediction or {}).get("replicas") or 1
    )
    per_planned = float(planned) / max(planned_replicas, 1)
    per_observed = stats.request_rate / max(replicas, 1)
    return abs(per_observed / per_planned - 1.0) <= PLANNED_LOAD_TOLERANCE


def _at_observed_load(
    dep: m.Deployment, stats: WindowStats, replicas: int
) -> tuple[ObservedLoad | None, list[Comparison]]:
    """The recommended configuration predicted at the traffic each replica actually served, compared with
    what was observed. Nothing when no traffic was served or the configuration is unknown to the catalog."""
    pred: dict[str, Any] = dep.prediction or {}
    per = max(replicas, 1)
    load = ObservedLoad.from_rates(
        stats.request_rate / per, stats.prompt_tokens_per_s / per, stats.output_tokens_per_s / per
    )
    if load is None or not pred.get("model_id") or not pred.get("gpu_id"):
        return load, []
    try:
        catalog = default_catalog()
        at_load = predict_at_load(
            catalog.get_model(str(pred["model_id"])),
            catalog.get_gpu(str(pred["gpu_id"])),
            load,
            tp=int(pred.get("tp") or 1),
            precision=str(pred.get("precision") or "bf16"),
            engine=str(pred.get("engine") or "vllm"),
            calibration=default_calibration(),
        )
    except (PlanningError, ValueError):
        return load, []  # a model or GPU no longer in the catalog: only the planned comparison remains
    if not at_load.fits:
        return load, []
    return load, predicted_vs_observed(at_load.model_dump(), observed_values(stats, per))


async def observe_deployment(
    deployment_id: uuid.UUID,
    *,
    session: AsyncSession,
    window_s: float = 300.0,
    step_s: float = 60.0,
    slos: list[Slo] | None = None,
    until: datetime | None = None,
    offload: Offload | None = None,
) -> Observation:
    """Everything known about a deployment's behaviour over the last ``window_s`` seconds.

    ``offload(fn, *args)`` runs the per-step compliance off the event loop (the service's worker pool)."""
    dep = await session.get(m.Deployment, deployment_id)
    if dep is None:
        raise DeploymentNotFoundError(f"no deployment with id {deployment_id}")
    end = until or datetime.now(UTC)
    series = await load_series(
        deployment_id, session=session, since=end - timedelta(seconds=window_s), until=end
    )
    stats = window_stats(series)
    targets = deployment_targets(dep) or list(series)
    the_slos = slos if slos is not None else slos_from_specification(dep.specification or {})
    comp = None
    if the_slos:
        comp = (
            await offload(_compliance, series, the_slos, step_s)
            if offload
            else _compliance(series, the_slos, step_s)
        )
    states = await scrape_states(deployment_id, session=session)
    health = runtime_health(states, comp.slos if comp else (), error_rate=stats.error_rate if stats else None)
    comparison = (
        predicted_vs_observed(dep.prediction, observed_values(stats, len(targets) or 1))
        if stats and dep.prediction
        else []
    )
    if stats is not None and not _at_planned_load(dep, stats, len(targets) or 1):
        # Idle or far from the planned traffic: the planned figures are shown, but their difference from
        # what was observed is not an error of the prediction (the comparison at observed load is).
        comparison = [c.model_copy(update={"error_pct": None}) for c in comparison]
    load, at_load = (None, []) if stats is None else _at_observed_load(dep, stats, len(targets) or 1)
    advice = advise(stats, comp.slos if comp else [], plan_facts(dep, len(targets) or None))
    return Observation(
        deployment_id=str(deployment_id),
        at=end,
        window_s=window_s,
        health=health,
        stats=stats,
        compliance=comp,
        predicted_vs_observed=comparison,
        observed_load=load,
        predicted_at_observed_load=at_load,
        advice=advice,
        samples_stored=sum(len(v) for v in series.values()),
    )


async def update_health(
    deployment_id: uuid.UUID, *, session: AsyncSession, window_s: float = 300.0
) -> Health:
    """Re-evaluate and store the deployment's runtime health; a change is written to the audit log."""
    obs = await observe_deployment(deployment_id, session=session, window_s=window_s)
    dep = await session.get(m.Deployment, deployment_id)
    assert dep is not None
    if dep.health != obs.health.state or dep.health_reason != obs.health.reason:
        if dep.health != obs.health.state:
            await audit(
                Principal.system(),
                "deployment.health",
                "deployment",
                str(deployment_id),
                {"from": dep.health, "to": obs.health.state, "reason": obs.health.reason},
                session=session,
            )
        dep.health = obs.health.state
        dep.health_reason = obs.health.reason
    await session.flush()
    return obs.health


class SeriesPoint(BaseModel):
    """One step of a deployment's metrics, for plots of TTFT/ITL over time against the targets."""

    model_config = ConfigDict(extra="forbid")

    at: datetime
    request_rate: float
    ttft_p90_ms: float | None
    itl_p90_ms: float | None
    e2e_p95_ms: float | None
    queue_depth: float | None
    kv_cache_usage: float | None


async def timeseries(
    deployment_id: uuid.UUID,
    *,
    session: AsyncSession,
    window_s: float = 3600.0,
    step_s: float = 60.0,
    offload: Offload | None = None,
) -> list[SeriesPoint]:
    """Per-step percentiles over the window (steps without two samples are left out)."""
    end = datetime.now(UTC)
    series = await load_series(
        deployment_id, session=session, since=end - timedelta(seconds=window_s), until=end
    )
    return await offload(series_points, series, step_s) if offload else series_points(series, step_s)


def _compliance(series: Any, slos: list[Slo], step_s: float) -> Compliance | None:
    return compliance(series, slos, step_s=step_s)


def series_points(series: Any, step_s: float) -> list[SeriesPoint]:
    """The per-step points of loaded series (pure, CPU-bound: callers bound the number of steps)."""
    from app.observe.slo import steps_of

    points: list[SeriesPoint] = []
    for step_series, _seconds, step_end in steps_of(series, step_s):
        s = window_stats(step_series)
        if s is None:
            continue
        points.append(
            SeriesPoint(
                at=datetime.fromtimestamp(step_end, UTC),
                request_rate=round(s.request_rate, 4),
                ttft_p90_ms=s.ttft_ms.p90,
                itl_p90_ms=s.itl_ms.p90,
                e2e_p95_ms=s.e2e_ms.p95,
                queue_depth=s.queue_depth_mean,
                kv_cache_usage=s.kv_cache_usage_mean,
            )
        )
    return points
