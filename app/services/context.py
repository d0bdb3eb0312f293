"""The explicit context every service function takes: who acts, in which unit of work, with which settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.config import Settings, get_settings
from db.session import session_scope


@dataclass(frozen=True)
class Context:
    principal: Principal
    session: AsyncSession
    settings: Settings


@asynccontextmanager
async def unit_of_work(principal: Principal, settings: Settings | None = None) -> AsyncIterator[Context]:
    """A context whose session commits when the block succeeds and rolls back when it raises."""
    async with session_scope() as session:
        yield Context(principal=principal, session=session, settings=settings or get_settings())
