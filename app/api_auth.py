"""Authentication of `/api` calls: `Authorization: Bearer <api token>` -> :class:`Principal`.

Tokens are issued per user (`preflight user add` prints the first one) and stored as sha256 hashes. Every
`/api` route depends on :func:`current_principal` except `/api/health`. A missing or unknown token is a 401
with a JSON body that says what to send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from app.auth import Principal
from app.errors import Unauthenticated
from app.services import people
from app.services.context import Context, unit_of_work

_HINT = "send the header 'Authorization: Bearer <token>' with the API token `preflight user add` printed"


_ANONYMOUS = Principal(None, "anonymous", False)  # who acts while the token is checked


class NotAuthenticatedError(Unauthenticated):
    """The request carries no valid API token; the API turns it into a 401 (kind ``unauthenticated``)."""


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def current_principal(request: Request) -> Principal:
    """The person behind the request's API token; raises :class:`NotAuthenticatedError` otherwise."""
    token = bearer_token(request)
    if token is None:
        raise NotAuthenticatedError(f"authentication required: {_HINT}")
    async with unit_of_work(_ANONYMOUS) as ctx:
        principal = await people.authenticate(token, ctx)
    if principal is None:
        raise NotAuthenticatedError(f"unknown, expired or revoked API token, or a disabled account: {_HINT}")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def service_context(principal: CurrentPrincipal) -> AsyncIterator[Context]:
    """The service context of a request: the caller, a unit of work committed when the route succeeds."""
    async with unit_of_work(principal) as ctx:
        yield ctx


Ctx = Annotated[Context, Depends(service_context)]
