"""The outermost HTTP safety net: an error nothing else handled (a bug) is logged once and answered once.

Starlette's own catch-all (an ``Exception`` handler) answers the request and then re-raises, so the ASGI
server logs the same error a second time; and a handler that logs before that doubles it again. Here the
error is logged exactly once, with its traceback and a short request id, and the client gets the one JSON
error body (status 500, ``kind`` null, the id to quote), never a traceback. A database outage that reaches
this far is still a 503 with ``Retry-After``. Once a response has started (a stream), nothing can be
answered any more: the error is re-raised unlogged and the server logs it, once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import http_body

logger = logging.getLogger("app.api")


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


class UnexpectedErrors:
    """ASGI middleware: the last handler of HTTP errors (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, known: Callable[[BaseException], Response | None]) -> None:
        # ``known`` answers errors that have a meaning (an outage as 503); None for a bug.
        self.app, self.known = app, known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = self.known(exc) or unexpected(scope.get("method", "?"), scope.get("path", "?"), exc)
            await response(scope, receive, send)


def unexpected(method: str, path: str, exc: BaseException) -> JSONResponse:
    """Log a bug once, with its traceback and a request id, and the answer the client gets for it."""
    request_id = new_request_id()
    logger.error("%s %s failed unexpectedly [request %s]", method, path, request_id, exc_info=exc)
    message = (
        f"internal error (request {request_id}): Preflight could not finish this request. Retry; if it "
        f"happens again, an administrator can find request {request_id} in the server log"
    )
    return JSONResponse(
        status_code=500, content=http_body(None, message), headers={"X-Request-ID": request_id}
    )
