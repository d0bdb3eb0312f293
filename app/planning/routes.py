"""HTTP routes of the planner: recommendations and scenarios. Adapters only: parse, call the service, return.

Errors are mapped once, by kind, in :mod:`app.api` (from :mod:`app.errors`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api_auth import Ctx
from app.planning.result import RecommendationResult
from app.planning.scenarios import Comparison, ScenarioView, TightenReport
from app.services import recommendations, scenarios
from app.services.bounds import Name

router = APIRouter(prefix="/api", tags=["planning"])


@router.post("/recommendations", response_model=RecommendationResult)
async def create_recommendation(body: recommendations.RecommendRequest, ctx: Ctx) -> RecommendationResult:
    """Plan ranked options for a Specification (or a request in words); stored with an id."""
    return await recommendations.recommend(body, ctx)


@router.get("/recommendations/{recommendation_id}", response_model=RecommendationResult)
async def read_recommendation(recommendation_id: Name, ctx: Ctx) -> RecommendationResult:
    return await recommendations.get_recommendation(recommendation_id, ctx)


@router.get("/recommendations/{recommendation_id}/tighten")
async def tighten(
    recommendation_id: Name,
    ttft_p90_ms: Annotated[float, Query(gt=0, le=600_000, allow_inf_nan=False)],
    ctx: Ctx,
) -> TightenReport:
    """Which configurations stay viable if the TTFT p90 target tightens to ``ttft_p90_ms``."""
    req = scenarios.TightenRequest(scenario_or_recommendation=recommendation_id, ttft_p90_ms=ttft_p90_ms)
    return await scenarios.tighten(req, ctx)


@router.post("/scenarios", status_code=201)
async def save(body: scenarios.SaveScenarioRequest, ctx: Ctx) -> ScenarioView:
    return await scenarios.save(body, ctx)


@router.get("/scenarios")
async def list_all(ctx: Ctx) -> list[ScenarioView]:
    return await scenarios.list_all(ctx)


@router.get("/scenarios/{name}")
async def show(name: Name, ctx: Ctx) -> ScenarioView:
    return await scenarios.show(name, ctx)


@router.post("/scenarios/compare")
async def compare(body: scenarios.CompareRequest, ctx: Ctx) -> Comparison:
    return await scenarios.compare(body, ctx)


@router.post("/scenarios/{name}/replan", response_model=RecommendationResult)
async def replan(name: Name, body: scenarios.ReplanRequest, ctx: Ctx) -> RecommendationResult:
    return await scenarios.replan(name, body, ctx)
