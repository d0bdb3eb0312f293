"""Load tests through the API: only against the caller's own deployments (admins: also endpoints on the
``loadtest_allowed_endpoints`` list), with bounded concurrency, rate, duration and number running at once.

An endpoint outside those is refused before any connection is made, with the same words whether or not it
exists, so the API cannot be used to probe which addresses answer. (The CLI's `preflight loadtest URL` is the
operator's own tool on their own machine and takes any URL.)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.config import Settings
from app.errors import Forbidden, Invalid, RateLimited
from app.observe.loadtest import LoadTestConfig, LoadTestReport, ProfileName, SweepReport, run_loadtest
from app.observe.slo import Slo
from app.services.bounds import FiniteFloat, Name
from app.services.context import Context
from app.services.observation import owned_deployment

_running = 0


class LoadTestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment_id: str | None = Field(default=None, max_length=64, description="One of your deployments")
    endpoint: str | None = Field(
        default=None, max_length=500, description="Admins only: an endpoint on the server's allow-list"
    )
    model: Name | None = None
    profile: ProfileName = "concurrency"
    rate: FiniteFloat | None = Field(
        default=None, gt=0, description="Requests per second (constant, poisson)"
    )
    concurrency: int | None = Field(
        default=None, gt=0, description="Concurrent clients (concurrency profile)"
    )
    duration_s: FiniteFloat = Field(default=30.0, gt=0)
    max_requests: int | None = Field(default=None, gt=0, le=1_000_000)
    warmup_s: FiniteFloat = Field(default=0.0, ge=0, le=600)
    prompt_tokens: int = Field(default=512, gt=0, le=1_000_000)
    output_tokens: int = Field(default=128, gt=0, le=100_000)
    length_cv: FiniteFloat = Field(default=0.0, ge=0, le=2)
    slos: list[Slo] = Field(default_factory=list, max_length=20)
    sweep_points: int = Field(default=5, ge=3, le=20)
    sweep_max_concurrency: int = Field(default=64, gt=0)
    seed: int = Field(default=0, ge=0, le=2**31)


def _bounded(req: LoadTestRequest, ctx: Context) -> None:
    s = ctx.settings
    checks = [
        ("concurrency", req.concurrency, s.loadtest_max_concurrency),
        (
            "sweep_max_concurrency",
            req.sweep_max_concurrency if req.profile == "sweep" else None,
            s.loadtest_max_concurrency,
        ),
        ("rate", req.rate, s.loadtest_max_rate),
        ("duration_s", req.duration_s, s.loadtest_max_duration_s),
    ]
    for field, value, bound in checks:
        if value is not None and value > bound:
            raise Invalid(f"{field}: at most {bound:g} (got {value:g})")


async def _endpoint(req: LoadTestRequest, ctx: Context) -> str:
    if (req.deployment_id is None) == (req.endpoint is None):
        raise Invalid("give exactly one of deployment_id (one of your deployments) or endpoint (admins)")
    if req.deployment_id is not None:
        dep = await owned_deployment(req.deployment_id, ctx)
        if not dep.endpoint or dep.state != "running":
            raise Invalid(f"deployment {dep.id} is {dep.state} and serves no endpoint; deploy it first")
        return dep.endpoint
    assert req.endpoint is not None
    allowed = ctx.settings.loadtest_allowed_endpoints
    if not ctx.principal.is_admin or not any(req.endpoint.startswith(prefix) for prefix in allowed):
        raise Forbidden(
            "load tests may target only your own deployments (deployment_id); administrators may also "
            "target endpoints on the server's PREFLIGHT_LOADTEST_ALLOWED_ENDPOINTS list"
        )
    return req.endpoint


async def prepare(req: LoadTestRequest, ctx: Context) -> LoadTestConfig:
    """Check the request (bounds, whose endpoint) and build the run; no connection to the target yet."""
    _bounded(req, ctx)
    endpoint = await _endpoint(req, ctx)
    return LoadTestConfig(
        endpoint=endpoint,
        request_timeout_s=min(300.0, ctx.settings.loadtest_max_duration_s),
        **req.model_dump(exclude={"deployment_id", "endpoint"}),
    )


async def run(cfg: LoadTestConfig, settings: Settings) -> LoadTestReport | SweepReport:
    """Run a prepared load test (outside any database session: it lasts about ``duration_s``)."""
    global _running
    if _running >= settings.loadtest_max_running:
        raise RateLimited(
            f"{_running} load tests are running (at most {settings.loadtest_max_running}); retry later",
            retry_after_s=min(60.0, cfg.duration_s),
        )
    _running += 1
    try:
        return await run_loadtest(cfg)
    finally:
        _running -= 1


async def record_outcome(deployment_id: str, report: LoadTestReport, ctx: Context) -> int:
    """Store a load test of one of the caller's deployments as an observed outcome (observed against the
    deployment's prediction), so later recommendations learn from it; returns the outcome id."""
    from app.observe.outcomes import (
        DeploymentConfig,
        observed_from_report,
        traffic_from_report,
    )
    from app.observe.outcomes import record_outcome as store_outcome

    dep = await owned_deployment(deployment_id, ctx)
    pred = dict(dep.prediction or {})
    config = DeploymentConfig(
        model_id=str(pred.get("model_id") or report.model),
        gpu_id=str(pred.get("gpu_id") or "unknown"),
        engine=str(pred.get("engine") or "vllm"),
        tp=int(pred.get("tp") or 1),
        precision=str(pred.get("precision") or "bf16"),
    )
    row = await store_outcome(
        config,
        session=ctx.session,
        observed=observed_from_report(report),
        predicted=pred,
        deployment_id=dep.id,
        spec=dep.specification,
        traffic=traffic_from_report(report),
        cost=dict(pred.get("cost") or {}),
        compliance=report.slo_compliance,
    )
    return int(row.id)
