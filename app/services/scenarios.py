"""Scenarios: save an option of a recommendation under a name, list, show, compare, re-plan, tighten."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.planning import scenarios as domain
from app.planning.result import RecommendationResult
from app.services import scenario_store as store
from app.services.bounds import FiniteFloat, Name, check_no_nul_anywhere
from app.services.context import Context
from app.services.workers import cpu_pool

MAX_COMPARED = 8


class SaveScenarioRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    recommendation_id: Name
    option_rank: int = Field(default=1, ge=1, le=100)


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[Name] = Field(min_length=2, max_length=MAX_COMPARED)


class ReplanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    changes: dict[str, Any] = Field(max_length=50)
    save_as: Name | None = None


class TightenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario_or_recommendation: Name
    ttft_p90_ms: FiniteFloat = Field(gt=0, le=600_000)


async def save(req: SaveScenarioRequest, ctx: Context) -> domain.ScenarioView:
    return await store.save_scenario(
        req.name,
        req.recommendation_id,
        option_rank=req.option_rank,
        session=ctx.session,
        principal=ctx.principal,
    )


async def list_all(ctx: Context) -> list[domain.ScenarioView]:
    return await store.list_scenarios(session=ctx.session, principal=ctx.principal)


async def show(name: str, ctx: Context) -> domain.ScenarioView:
    return await store.get_scenario(name, session=ctx.session, principal=ctx.principal)


async def compare(req: CompareRequest, ctx: Context) -> domain.Comparison:
    return await store.compare_scenarios(req.names, session=ctx.session, principal=ctx.principal)


async def replan(name: str, req: ReplanRequest, ctx: Context) -> RecommendationResult:
    check_no_nul_anywhere(req.changes, "changes")
    return await store.replan_scenario(
        name,
        req.changes,
        save_as=req.save_as,
        session=ctx.session,
        principal=ctx.principal,
        offload=cpu_pool(ctx.settings).run,
    )


async def tighten(req: TightenRequest, ctx: Context) -> domain.TightenReport:
    return await store.viable_if_ttft(
        req.scenario_or_recommendation,
        req.ttft_p90_ms,
        session=ctx.session,
        principal=ctx.principal,
        offload=cpu_pool(ctx.settings).run,
    )
