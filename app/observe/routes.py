"""HTTP routes of the observe area (mounted under the API's token check by app/api.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api_auth import Ctx, CurrentPrincipal
from app.observe.learning import Corrections
from app.observe.loadtest import LoadTestReport, SweepReport
from app.observe.outcomes import SimilarOutcome
from app.observe.service import Observation, SeriesPoint
from app.services import loadtests, observation
from app.services.bounds import Name, Text
from app.services.context import unit_of_work

router = APIRouter(tags=["observe"])


Window = Annotated[float, Query(gt=0, allow_inf_nan=False)]


@router.get("/api/deployments/{deployment_id}/observation")
async def get_observation(
    deployment_id: str, ctx: Ctx, window_s: Window = 300.0, step_s: Window = 60.0
) -> Observation:
    """Health, window stats, SLO compliance, predicted vs observed and advice (your deployments only)."""
    req = observation.WindowRequest(deployment_id=deployment_id, window_s=window_s, step_s=step_s)
    return await observation.observe(req, ctx)


@router.get("/api/deployments/{deployment_id}/timeseries")
async def get_timeseries(
    deployment_id: str, ctx: Ctx, window_s: Window = 3600.0, step_s: Window = 60.0
) -> list[SeriesPoint]:
    """TTFT/ITL/E2E percentiles per step, for plots against the targets (your deployments only)."""
    req = observation.WindowRequest(deployment_id=deployment_id, window_s=window_s, step_s=step_s)
    return await observation.series(req, ctx)


@router.post("/api/loadtests")
async def post_loadtest(
    body: loadtests.LoadTestRequest, principal: CurrentPrincipal
) -> LoadTestReport | SweepReport:
    """Load-test one of your deployments and return the report (blocks for the test's duration)."""
    async with unit_of_work(principal) as ctx:
        cfg = await loadtests.prepare(body, ctx)
    return await loadtests.run(cfg, ctx.settings)


class SimilarResponse(BaseModel):
    summary: str | None
    outcomes: list[SimilarOutcome]


@router.get("/api/outcomes/similar")
async def get_similar(
    ctx: Ctx, q: Annotated[Text, Query(min_length=3)], limit: Annotated[int, Query(ge=1, le=50)] = 5
) -> SimilarResponse:
    """Past outcomes closest to a description, with the one-line summary for recommendations."""
    summary, found = await observation.similar(q, ctx, limit=limit)
    return SimilarResponse(summary=summary, outcomes=found)


@router.get("/api/corrections")
async def get_corrections(
    ctx: Ctx, model_id: Name, gpu_id: Name, engine: Annotated[Name, Query()] = "vllm"
) -> Corrections:
    """The correction factors the next prediction of this configuration gets from stored outcomes."""
    req = observation.CorrectionsRequest(model_id=model_id, gpu_id=gpu_id, engine=engine)
    return await observation.corrections(req, ctx)
