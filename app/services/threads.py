"""Chat threads (Chainlit's tables, schema ``chainlit``): the caller's own, or everyone's for admins. Another
person's thread reads exactly like a missing one, so ids cannot be probed."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import text

from app.errors import NotFound
from app.services.context import Context

CHAINLIT_SCHEMA = "chainlit"

_THREAD_COLUMNS = f'SELECT "id", "name", "userIdentifier", "createdAt" FROM {CHAINLIT_SCHEMA}.threads'


class ThreadNotFound(NotFound, LookupError):
    """No such thread visible to the caller."""


class ThreadSummary(BaseModel):
    id: str
    name: str | None
    owner: str | None
    created_at: str | None


async def list_threads(ctx: Context) -> list[ThreadSummary]:
    sql = _THREAD_COLUMNS
    params: dict[str, Any] = {}
    if not ctx.principal.is_admin:
        sql += ' WHERE "userIdentifier" = :who'
        params["who"] = ctx.principal.name
    rows = (await ctx.session.execute(text(sql + ' ORDER BY "createdAt" DESC NULLS LAST'), params)).all()
    return [ThreadSummary(id=str(r[0]), name=r[1], owner=r[2], created_at=r[3]) for r in rows]


async def get_thread(thread_id: str, ctx: Context) -> ThreadSummary:
    try:
        key = uuid.UUID(thread_id)
    except ValueError as e:
        raise ThreadNotFound(f"thread {thread_id!r} not found") from e
    row = (await ctx.session.execute(text(_THREAD_COLUMNS + ' WHERE "id" = :id'), {"id": key})).first()
    if row is None or (not ctx.principal.is_admin and row[2] != ctx.principal.name):
        raise ThreadNotFound(f"thread {thread_id} not found")
    return ThreadSummary(id=str(row[0]), name=row[1], owner=row[2], created_at=row[3])
