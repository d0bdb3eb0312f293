"""HTTP routes of the observe area (mounted under the API's token check by app/api.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.observe.learning import Corrections, load_corrections
from app.observe.loadtest import LoadTestConfig, LoadTestError, LoadTestReport, SweepReport, run_loadtest
from app.observe.outcomes import SimilarOutcome, similar_outcomes, summarize_similar
from app.observe.service import (
    DeploymentNotFoundError,
    Observation,
    SeriesPoint,
    observe_deployment,
    timeseries,
)

router = APIRouter(tags=["observe"])
MAX_LOADTEST_S = 300.0


async def _session() -> AsyncIterator[AsyncSession]:
    from db.session import session_scope

    async with session_scope() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session)]


@router.get("/api/deployments/{deployment_id}/observation")
async def get_observation(
    deployment_id: uuid.UUID,
    session: Session,
    window_s: Annotated[float, Query(gt=0, le=30 * 86400)] = 300.0,
    step_s: Annotated[float, Query(gt=0)] = 60.0,
) -> Observation:
    """Health, window stats, SLO compliance, predicted vs observed and advice."""
    try:
        return await observe_deployment(deployment_id, session=session, window_s=window_s, step_s=step_s)
    except DeploymentNotFoundError as e:
        raise HTTPException(status_code=404, detail=str(e)) from e


@router.get("/api/deployments/{deployment_id}/timeseries")
async def get_timeseries(
    deployment_id: uuid.UUID,
    session: Session,
    window_s: Annotated[float, Query(gt=0, le=30 * 86400)] = 3600.0,
    step_s: Annotated[float, Query(gt=0)] = 60.0,
) -> list[SeriesPoint]:
    """TTFT/ITL/E2E percentiles per step, for plots against the targets."""
    return await timeseries(deployment_id, session=session, window_s=window_s, step_s=step_s)


class LoadTestRequest(LoadTestConfig):
    duration_s: float = Field(default=30.0, gt=0, le=MAX_LOADTEST_S)


@router.post("/api/loadtests")
async def post_loadtest(body: LoadTestRequest) -> LoadTestReport | SweepReport:
    """Run a load test against an endpoint and return its report (blocks for the test's duration)."""
    try:
        return await run_loadtest(LoadTestConfig(**body.model_dump()))
    except LoadTestError as e:
        raise HTTPException(status_code=400, detail=str(e)) from e


class SimilarResponse(BaseModel):
    summary: str | None
    outcomes: list[SimilarOutcome]


@router.get("/api/outcomes/similar")
async def get_similar(
    session: Session, q: Annotated[str, Query(min_length=3)], limit: Annotated[int, Query(ge=1, le=50)] = 5
) -> SimilarResponse:
    """Past outcomes closest to a description, with the one-line summary for recommendations."""
    found = await similar_outcomes(q, session=session, limit=limit)
    return SimilarResponse(summary=summarize_similar(found), outcomes=found)


@router.get("/api/corrections")
async def get_corrections(session: Session, model_id: str, gpu_id: str, engine: str = "vllm") -> Corrections:
    """The correction factors the next prediction of this configuration gets from stored outcomes."""
    return await load_corrections(model_id, gpu_id, engine, session=session)
