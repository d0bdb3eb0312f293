"""`/api` routes for what the chat keeps: who am I, and chat threads (owner-scoped; admins see all).

Saved scenarios are served by the planning area's routes (`/api/scenarios`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api_auth import Ctx, CurrentPrincipal
from app.services import threads as chat_threads

router = APIRouter(prefix="/api", tags=["chat"])


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, Any]:
    return {"id": principal.id, "name": principal.name, "admin": principal.is_admin}


@router.get("/threads")
async def threads(ctx: Ctx) -> list[chat_threads.ThreadSummary]:
    """Chat threads: your own, or everyone's for admins."""
    return await chat_threads.list_threads(ctx)


@router.get("/threads/{thread_id}")
async def thread(thread_id: str, ctx: Ctx) -> chat_threads.ThreadSummary:
    return await chat_threads.get_thread(thread_id, ctx)
