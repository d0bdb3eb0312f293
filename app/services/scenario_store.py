"""Scenarios in Postgres: save an option of a stored recommendation under a name (per owner), list, show,
compare, re-plan and tighten. The comparison table, the changes and the tighten report are pure
(``app.planning.scenarios``); this module loads and stores their rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal, audit
from app.intent.schema import Specification
from app.planning.recommend import Offload
from app.planning.result import RecommendationResult
from app.planning.scenarios import (
    NAME_MAX,
    Comparison,
    ScenarioError,
    ScenarioExists,
    ScenarioNotFound,
    ScenarioView,
    TightenReport,
    apply_changes,
    column_of,
    comparison,
    find_option,
    summary_of,
    tighten_report,
)
from app.services.planner import get_recommendation, recommend
from db import models as m


def _view(row: m.Scenario) -> ScenarioView:
    return ScenarioView(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        recommendation_id=str(row.recommendation_id) if row.recommendation_id else None,
        option_rank=row.option_index,
        specification=row.specification,
        option=row.option,
        summary=summary_of(row.option),
    )


async def save_scenario(
    name: str,
    recommendation_id: str,
    *,
    option_rank: int = 1,
    session: AsyncSession,
    principal: Principal | None = None,
) -> ScenarioView:
    """Save the chosen option of a stored recommendation, with its specification, under ``name``."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ScenarioError(f"a scenario name is 1-{NAME_MAX} characters")
    who = principal or Principal.system()
    result = await get_recommendation(recommendation_id, session=session, principal=who)
    option = find_option(result, option_rank)
    existing = await _get_row(name, session=session, principal=who, missing_ok=True)
    if existing is not None:
        raise ScenarioExists(f"a scenario named {name!r} already exists; choose another name")
    row = m.Scenario(
        name=name,
        owner_id=who.id,
        specification=result.specification,
        recommendation_id=_uuid(recommendation_id),
        option_index=option_rank,
        option=option.model_dump(mode="json"),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as e:
        raise ScenarioExists(f"a scenario named {name!r} already exists; choose another name") from e
    await audit(
        who,
        "scenario.save",
        "scenario",
        str(row.id),
        {"name": name, "recommendation": recommendation_id, "option": option_rank},
        session=session,
    )
    return _view(row)


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(str(value))


async def _get_row(
    name: str, *, session: AsyncSession, principal: Principal, missing_ok: bool = False
) -> m.Scenario | None:
    stmt = select(m.Scenario).where(m.Scenario.name == name)
    if principal.id is None:
        stmt = stmt.where(m.Scenario.owner_id.is_(None))
    else:
        stmt = stmt.where(m.Scenario.owner_id == principal.id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None and not missing_ok:
        raise ScenarioNotFound(f"no scenario named {name!r}; `preflight scenario list` shows the saved ones")
    return row


async def list_scenarios(*, session: AsyncSession, principal: Principal | None = None) -> list[ScenarioView]:
    who = principal or Principal.system()
    stmt = select(m.Scenario).order_by(m.Scenario.created_at)
    stmt = stmt.where(m.Scenario.owner_id.is_(None) if who.id is None else m.Scenario.owner_id == who.id)
    return [_view(r) for r in (await session.execute(stmt)).scalars()]


async def get_scenario(
    name: str, *, session: AsyncSession, principal: Principal | None = None
) -> ScenarioView:
    row = await _get_row(name, session=session, principal=principal or Principal.system())
    assert row is not None
    return _view(row)


async def compare_scenarios(
    names: list[str], *, session: AsyncSession, principal: Principal | None = None
) -> Comparison:
    if len(names) < 2:
        raise ScenarioError("compare needs at least two scenarios")
    who = principal or Principal.system()
    columns = []
    for name in names:
        row = await _get_row(name, session=session, principal=who)
        assert row is not None
        if not row.option:
            raise ScenarioError(f"scenario {name!r} has no chosen option to compare")
        columns.append(column_of(name, row.option))
    return comparison(columns)


async def replan_scenario(
    name: str,
    changes: dict[str, Any],
    *,
    save_as: str | None = None,
    session: AsyncSession,
    principal: Principal | None = None,
    offload: Offload | None = None,
) -> RecommendationResult:
    """Change fields of a scenario's specification and plan again (optionally saving the top option)."""
    who = principal or Principal.system()
    row = await _get_row(name, session=session, principal=who)
    assert row is not None
    spec = apply_changes(Specification.model_validate(row.specification), changes)
    result = await recommend(
        spec, session=session, principal=who, input_text=f"replan of scenario {name}", offload=offload
    )
    if save_as and result.options and result.recommendation_id:
        await save_scenario(save_as, result.recommendation_id, option_rank=1, session=session, principal=who)
    return result


async def viable_if_ttft(
    name_or_recommendation: str,
    ttft_p90_ms: float,
    *,
    session: AsyncSession,
    principal: Principal | None = None,
    offload: Offload | None = None,
) -> TightenReport:
    """Which configurations of a scenario's (or recommendation's) plan stay viable at a tighter TTFT."""
    who = principal or Principal.system()
    row = await _get_row(name_or_recommendation, session=session, principal=who, missing_ok=True)
    if row is not None and row.recommendation_id is not None:
        before = await get_recommendation(str(row.recommendation_id), session=session, principal=who)
    else:
        try:
            before = await get_recommendation(name_or_recommendation, session=session, principal=who)
        except LookupError as e:
            raise ScenarioNotFound(f"no scenario or recommendation {name_or_recommendation!r}") from e
    spec = apply_changes(
        Specification.model_validate(before.specification), {"target_ttft_p90_ms": ttft_p90_ms}
    )
    after = await recommend(
        spec,
        session=session,
        principal=who,
        input_text=f"TTFT p90 tightened to {ttft_p90_ms:g} ms",
        offload=offload,
    )
    return tighten_report(before, after, ttft_p90_ms)
