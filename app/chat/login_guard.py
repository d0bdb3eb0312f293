"""The guard around the chat's password sign-in (Chainlit's `POST /login`).

Chainlit calls our sign-in callback with the name and password only, and turns any failure into "wrong
password" (401). The guard gives the callback the caller's address (for per-address throttling) and, when the
callback records a refusal (throttled, database unavailable), answers with that error instead: 429 with
Retry-After, or 503, mapped like every other error in :func:`app.api.error_response`.

The address is the TCP peer, or X-Forwarded-For when the peer is one of ``trusted_proxies`` (uvicorn
rewrites the peer; see :func:`app.server.proxy_options`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class SignInAttempt:
    client_ip: str
    refusal: BaseException | None = None


_attempt: ContextVar[SignInAttempt | None] = ContextVar("preflight_sign_in_attempt", default=None)


def current_attempt() -> SignInAttempt | None:
    """The sign-in being handled in this request, if it is one."""
    return _attempt.get()


class SignInGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != "/login":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        attempt = SignInAttempt(client_ip=client[0] if client else "unknown")
        replaced = False

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and attempt.refusal is not None:
                replaced = True
                await _refusal_response(attempt.refusal)(scope, receive, send)
                return
            if not replaced:
                await send(message)

        token = _attempt.set(attempt)
        try:
            await self.app(scope, receive, guarded_send)
        finally:
            _attempt.reset(token)


def _refusal_response(refusal: BaseException) -> Response:
    from fastapi import HTTPException

    from app.api import error_response
    from app.errors import kind_for_status

    if isinstance(refusal, HTTPException):
        return JSONResponse(
            status_code=refusal.status_code,
            content={"error": str(refusal.detail), "kind": kind_for_status(refusal.status_code)},
            headers=refusal.headers,
        )
    return error_response(refusal)
