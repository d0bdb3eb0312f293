"""HTTP routes for a person's own API tokens, `/api/me/tokens`: parse, call the service, return.

People manage only their own tokens here (another person's token id reads as not found); administrators
manage people with the CLI (`preflight user ...`, `preflight token ...`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api_auth import Ctx
from app.services import people

router = APIRouter(prefix="/api/me", tags=["people"])

TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/tokens")
async def list_my_tokens(ctx: Ctx) -> list[people.TokenView]:
    """Your API tokens (never their secrets), newest first, with their state."""
    return await people.list_tokens(ctx, user=ctx.principal.name)


@router.post("/tokens", status_code=201)
async def create_my_token(body: people.CreateTokenRequest, ctx: Ctx) -> people.IssuedToken:
    """A new API token for you, optionally expiring; the secret is in this answer only."""
    return await people.create_token(body, ctx, user=ctx.principal.name)


@router.delete("/tokens/{token_id}")
async def revoke_my_token(token_id: TokenId, ctx: Ctx) -> people.TokenView:
    """Revoke one of your tokens: from now on it is refused with 401."""
    return await people.revoke_token(token_id, ctx, mine_only=True)
