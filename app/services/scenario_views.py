"""Saved scenarios with their full option, read back by id for the chat's comparison view.

Scenarios are saved through :mod:`app.services.scenarios`. People see their own rows, admins everyone's; a
row that belongs to someone else reads as "not found", so ids cannot be probed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from app.auth import Principal
from app.errors import NotFound
from app.planning.result import Option
from app.services.context import Context
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


async def list_saved(
    ctx: Context, *, ids: list[int] | None = None, mine_only: bool = False
) -> list[SavedScenario]:
    """Scenarios with their full option: the person's own, or anyone's for admins (unless mine_only)."""
    principal = ctx.principal
    stmt = select(m.Scenario, m.User.name).join(m.User, m.User.id == m.Scenario.owner_id, isouter=True)
    if mine_only:
        stmt = stmt.where(m.Scenario.owner_id == principal.id)
    else:
        stmt = _owned(stmt, m.Scenario.owner_id, principal)
    if ids is not None:
        stmt = stmt.where(m.Scenario.id.in_(ids))
    rows = (await ctx.session.execute(stmt.order_by(m.Scenario.created_at, m.Scenario.id))).all()
    return [_scenario_view(row, owner) for row, owner in rows]


async def get_saved(scenario_id: int, ctx: Context) -> SavedScenario:
    found = await list_saved(ctx, ids=[scenario_id])
    if not found:
        raise NotFoundError(f"scenario {scenario_id} not found")
    return found[0]
