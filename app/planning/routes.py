"""HTTP routes of the planner: recommendations and scenarios. Thin: they call the service functions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_auth import CurrentPrincipal
from app.planning.result import RecommendationResult
from db.session import session_scope

router = APIRouter(prefix="/api", tags=["planning"])


async def _session() -> Any:
    async with session_scope() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session)]


class RecommendRequest(BaseModel):
    specification: dict[str, Any] | None = Field(default=None, description="A Specification (JSON)")
    text: str | None = Field(default=None, max_length=4000, description="Or the request in words")
    top: int = Field(default=5, ge=1, le=10)
    pricing: list[str] = Field(default_factory=lambda: ["on_demand", "list_per_gpu_hour"])
    space_usd_per_gpu_month: float | None = Field(default=None, ge=0)


class SaveScenarioRequest(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    recommendation_id: str
    option_rank: int = Field(default=1, ge=1)


class CompareRequest(BaseModel):
    names: list[str] = Field(min_length=2)


class ReplanRequest(BaseModel):
    changes: dict[str, Any]
    save_as: str | None = None


def _bad_request(e: Exception) -> HTTPException:
    if isinstance(e, ValidationError):
        detail = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors())
        return HTTPException(status_code=422, detail=f"invalid specification: {detail}")
    return HTTPException(status_code=422, detail=str(e))


@router.post("/recommendations", response_model=RecommendationResult)
async def create_recommendation(body: RecommendRequest, principal: CurrentPrincipal, session: Session) -> Any:
    """Plan ranked options for a Specification (or a request in words); stored with an id."""
    from app.intent.schema import Specification
    from app.perf.errors import PlanningError
    from app.planning.cost import ALL_RENTAL_KINDS
    from app.planning.plan import PlanSettings
    from app.planning.recommend import recommend, spec_from_text

    if (body.specification is None) == (body.text is None):
        raise HTTPException(status_code=422, detail="send either 'specification' or 'text'")
    bad = [k for k in body.pricing if k not in ALL_RENTAL_KINDS]
    if bad or not body.pricing:
        raise HTTPException(
            status_code=422, detail=f"pricing: unknown kind(s) {bad}; use {list(ALL_RENTAL_KINDS)}"
        )
    settings = PlanSettings(
        top_k=body.top, rental_kinds=tuple(body.pricing), space_usd_per_gpu_month=body.space_usd_per_gpu_month
    )
    try:
        if body.specification is not None:
            from app.planning.recommend_cli import with_origins

            spec = Specification.model_validate(with_origins(dict(body.specification)))
        else:
            spec = await spec_from_text(body.text or "", session=session)
        return await recommend(
            spec, session=session, principal=principal, input_text=body.text, settings=settings
        )
    except (ValidationError, PlanningError) as e:
        raise _bad_request(e) from e


@router.get("/recommendations/{recommendation_id}", response_model=RecommendationResult)
async def read_recommendation(recommendation_id: str, principal: CurrentPrincipal, session: Session) -> Any:
    from app.planning.recommend import RecommendationNotFound, get_recommendation

    try:
        return await get_recommendation(recommendation_id, session=session, principal=principal)
    except RecommendationNotFound as e:
        raise HTTPException(status_code=404, detail=str(e)) from e


@router.get("/recommendations/{recommendation_id}/tighten")
async def tighten(
    recommendation_id: str, ttft_p90_ms: float, principal: CurrentPrincipal, session: Session
) -> Any:
    """Which configurations stay viable if the TTFT p90 target tightens to ``ttft_p90_ms``."""
    from app.planning.scenarios import ScenarioError, viable_if_ttft

    if ttft_p90_ms <= 0:
        raise HTTPException(status_code=422, detail="ttft_p90_ms must be positive")
    try:
        return (
            await viable_if_ttft(recommendation_id, ttft_p90_ms, session=session, principal=principal)
        ).model_dump()
    except ScenarioError as e:
        raise HTTPException(status_code=404, detail=str(e)) from e


@router.post("/scenarios", status_code=201)
async def save(body: SaveScenarioRequest, principal: CurrentPrincipal, session: Session) -> Any:
    from app.planning.recommend import RecommendationNotFound
    from app.planning.scenarios import ScenarioError, save_scenario

    try:
        view = await save_scenario(
            body.name,
            body.recommendation_id,
            option_rank=body.option_rank,
            session=session,
            principal=principal,
        )
    except RecommendationNotFound as e:
        raise HTTPException(status_code=404, detail=str(e)) from e
    except ScenarioError as e:
        raise HTTPException(status_code=409 if "already exists" in str(e) else 422, detail=str(e)) from e
    return view.model_dump(mode="json")


@router.get("/scenarios")
async def list_all(principal: CurrentPrincipal, session: Session) -> Any:
    from app.planning.scenarios import list_scenarios

    return [v.model_dump(mode="json") for v in await list_scenarios(session=session, principal=principal)]


@router.get("/scenarios/{name}")
async def show(name: str, principal: CurrentPrincipal, session: Session) -> Any:
    from app.planning.scenarios import ScenarioError, get_scenario

    try:
        return (await get_scenario(name, session=session, principal=principal)).model_dump(mode="json")
    except ScenarioError as e:
        raise HTTPException(status_code=404, detail=str(e)) from e


@router.post("/scenarios/compare")
async def compare(body: CompareRequest, principal: CurrentPrincipal, session: Session) -> Any:
    from app.planning.scenarios import ScenarioError, compare_scenarios

    try:
        return (await compare_scenarios(body.names, session=session, principal=principal)).model_dump()
    except ScenarioError as e:
        raise HTTPException(status_code=404, detail=str(e)) from e


@router.post("/scenarios/{name}/replan", response_model=RecommendationResult)
async def replan(name: str, body: ReplanRequest, principal: CurrentPrincipal, session: Session) -> Any:
    from app.perf.errors import PlanningError
    from app.planning.scenarios import ScenarioError, replan_scenario

    try:
        return await replan_scenario(
            name, body.changes, save_as=body.save_as, session=session, principal=principal
        )
    except (ScenarioError, PlanningError, ValidationError) as e:
        raise _bad_request(e) from e
