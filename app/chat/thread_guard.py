"""Another person's conversation reads as "not found", in the page and in the websocket.

Chainlit refuses a websocket whose ``threadId`` belongs to someone else (the browser then shows its
"could not reach the server" banner), answers ``GET /project/thread/{id}`` for it with 401 (which reads as
"signed out") and a missing id with a 500. Here:

- the websocket connect is wrapped: a thread the caller does not own is replaced by a fresh, unused id, so
  the connection succeeds, the resume finds nothing ("Thread not found.") and the chat says
  :data:`NOT_FOUND`, exactly as for an id that never existed. Nothing can be written into the other
  person's thread, since the session never holds its id.
- the page ``GET /thread/{id}`` (a pasted or bookmarked link) for a thread that is missing or someone
  else's answers 404 with a small Preflight page saying :data:`NOT_FOUND` and linking to a new
  conversation, before the single-page app (and its websocket races) load at all;
- ``GET /project/thread/{id}`` (and its elements), the page's data API, answers 404 with
  ``{"detail": NOT_FOUND}``.

The same answer for missing and for someone else's, so ids cannot be probed. Unsigned requests pass
through: Chainlit sends them to its sign-in.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

NOT_FOUND = "This conversation was not found"

_THREAD_API = re.compile(r"^/project/thread/(?P<id>[^/]+)(?:/element/[^/]+)?/?$")
_THREAD_PAGE = re.compile(r"^/thread/(?P<id>[^/]+)/?$")

NOT_FOUND_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preflight · {NOT_FOUND}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; display: flex; min-height: 100vh; align-items: center;
  justify-content: center; background: #f7f7f8; color: #1f2328; }}
main {{ max-width: 28rem; padding: 2rem; text-align: center; }}
img {{ height: 2.5rem; }} h1 {{ font-size: 1.4rem; }} a {{ color: #0b5cad; font-weight: 600; }}
</style></head>
<body><main>
<img src="/logo?theme=light" alt="Preflight">
<h1 id="not-found">{NOT_FOUND}.</h1>
<p>It does not exist, or it belongs to another account.</p>
<p><a href="/">Start a new conversation</a> or pick one of yours from the history.</p>
</main></body></html>
"""


def caller(cookie_header: str | None, authorization: str | None) -> str | None:
    """The signed-in identifier from Chainlit's access token (cookie or bearer header); None if absent or
    invalid (Chainlit then refuses the request itself)."""
    from chainlit.auth import get_token_from_cookies
    from chainlit.auth.jwt import decode_jwt

    token: str | None = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    elif cookie_header:
        jar: SimpleCookie = SimpleCookie()
        jar.load(cookie_header)
        token = get_token_from_cookies({k: v.value for k, v in jar.items()})
    if not token:
        return None
    try:
        return decode_jwt(token).identifier
    except Exception:  # expired, forged or malformed: not signed in
        return None


async def owns(identifier: str, thread_id: str) -> bool:
    """Whether ``thread_id`` exists and was started by ``identifier``."""
    from chainlit.data import get_data_layer

    data_layer = get_data_layer()
    if data_layer is None:
        return True  # no persistence: nothing to protect, and Chainlit resumes nothing
    try:
        return await data_layer.get_thread_author(thread_id) == identifier
    except ValueError:  # Chainlit's "author not found": no such thread
        return False


class ThreadGuard:
    """Answers 404 "not found" for a conversation's page or data the caller does not own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        api, page = _THREAD_API.match(path), _THREAD_PAGE.match(path)
        match = api or page
        if match is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or []}
        who = caller(headers.get("cookie"), headers.get("authorization"))
        if who is None or await owns(who, match["id"]):
            await self.app(scope, receive, send)
            return
        response: Response = (
            JSONResponse(status_code=404, content={"detail": NOT_FOUND})
            if api
            else HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        )
        await response(scope, receive, send)


Connect = Callable[[str, dict[str, Any], dict[str, Any]], Awaitable[Any]]


def guarded_connect(original: Connect) -> Connect:
    """Chainlit's websocket ``connect`` with a thread the caller does not own swapped for a fresh id."""

    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any]) -> Any:
        thread_id = (auth or {}).get("threadId")
        if thread_id:
            who = caller(environ.get("HTTP_COOKIE"), environ.get("HTTP_AUTHORIZATION"))
            if who is not None and not await owns(who, str(thread_id)):
                auth = {**auth, "threadId": str(uuid.uuid4())}
        return await original(sid, environ, auth)

    return connect


def install_socket_guard() -> None:
    """Wrap the ``connect`` handler Chainlit registered (once, after ``chainlit.socket`` is imported)."""
    from chainlit.server import sio

    handlers = sio.handlers.setdefault("/", {})
    original = handlers.get("connect")
    if original is None or getattr(original, "_preflight_guarded", False):
        return
    wrapped = guarded_connect(original)
    wrapped._preflight_guarded = True  # type: ignore[attr-defined]
    sio.on("connect", handler=wrapped)
