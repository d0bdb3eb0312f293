"""Owner-scoped reads the chat needs: recommendations and scenarios (chat threads: ``app.services.threads``).

Recommendations are stored once, by the recommendation service (``app.services.recommendations``).

Every read takes the acting :class:`Principal`: people see their own rows, admins see everyone's. A row that
exists but belongs to someone else reads as "not found", so ids cannot be probed.

Scenarios are saved through the planning service (``app.services.scenarios``); this module reads them back
by id with their full option, for the chat's comparison view.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.errors import NotFound
from app.planning.result import Option, RecommendationResult
from db import models as m


class NotFoundError(NotFound, LookupError):
    """The object does not exist, or the person may not see it."""


class SavedScenario(BaseModel):
    id: int
    name: str
    owner: str | None
    created_at: datetime
    specification: dict[str, Any]
    recommendation_id: str | None
    option_rank: int | None
    option: Option | None


def _owned(stmt: Any, column: Any, who: Principal) -> Any:
    """``stmt`` limited to rows owned by ``who`` unless ``who`` is an admin (any Select)."""
    return stmt if who.is_admin else stmt.where(column == who.id)


async def load_recommendation(
    rec_id: str, *, principal: Principal, session: AsyncSession
) -> RecommendationResult:
    try:
        key = uuid.UUID(rec_id)
    except ValueError as e:
        raise NotFoundError(f"recommendation {rec_id!r} not found") from e
    stmt = _owned(
        select(m.Recommendation).where(m.Recommendation.id == key), m.Recommendation.owner_id, principal
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"recommendation {rec_id} not found")
    result = RecommendationResult.model_validate(row.result)
    return result.model_copy(update={"recommendation_id": str(row.id)})


def _scenario_view(row: m.Scenario, owner: str | None) -> SavedScenario:
    return SavedScenario(
        id=row.id,
        name=row.name,
        owner=owner,
        created_at=row.created_at,
        specification=row.specification,
        recommendation_id=str(row.recommendation_id) if row.recommendation_id else None,
        option_rank=row.option_index,
        option=Option.model_validate(row.option) if row.option else None,
    )


async def list_scenarios(
    *, principal: Principal, session: AsyncSession, ids: list[int] | None = None, mine_only: bool = False
) -> list[SavedScenario]:
    """Scenarios with their full option: the person's own, or anyone's for admins (unless mine_only)."""
    stmt = select(m.Scenario, m.User.name).join(m.User, m.User.id == m.Scenario.owner_id, isouter=True)
    if mine_only:
        stmt = stmt.where(m.Scenario.owner_id == principal.id)
    else:
        stmt = _owned(stmt, m.Scenario.owner_id, principal)
    if ids is not None:
        stmt = stmt.where(m.Scenario.id.in_(ids))
    rows = (await session.execute(stmt.order_by(m.Scenario.created_at, m.Scenario.id))).all()
    return [_scenario_view(row, owner) for row, owner in rows]


async def get_scenario(scenario_id: int, *, principal: Principal, session: AsyncSession) -> SavedScenario:
    found = await list_scenarios(principal=principal, session=session, ids=[scenario_id])
    if not found:
        raise NotFoundError(f"scenario {scenario_id} not found")
    return found[0]


async def principal_for(name: str, *, session: AsyncSession) -> Principal | None:
    """The current role of a user by name (roles can change after a login)."""
    user = (await session.execute(select(m.User).where(m.User.name == name))).scalar_one_or_none()
    return None if user is None else Principal(user.id, user.name, user.role == "admin")
