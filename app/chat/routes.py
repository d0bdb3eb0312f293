"""`/api` routes for what the chat keeps: who am I, and chat threads (owner-scoped; admins see all).

Saved scenarios are served by the planning area's routes (`/api/scenarios`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api_auth import CurrentPrincipal
from app.chat import store
from db.session import session_scope

router = APIRouter(prefix="/api", tags=["chat"])


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, Any]:
    return {"id": principal.id, "name": principal.name, "admin": principal.is_admin}


@router.get("/threads")
async def threads(principal: CurrentPrincipal) -> list[store.ThreadSummary]:
    """Chat threads: your own, or everyone's for admins."""
    async with session_scope() as session:
        return await store.list_threads(principal=principal, session=session)


@router.get("/threads/{thread_id}")
async def thread(thread_id: str, principal: CurrentPrincipal) -> store.ThreadSummary:
    async with session_scope() as session:
        return await store.get_thread(thread_id, principal=principal, session=session)
