"""Which client address the server believes: X-Forwarded-For only from listed proxies (issue 14 probe 4).

uvicorn's own config loading and proxy middleware are exercised; the ASGI call is in-process (no socket)."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn

from app.server import proxy_options

pytestmark = pytest.mark.unit


async def client_seen(trusted: list[str], peer: str) -> str:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["client"] = scope["client"][0]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(app, **proxy_options(trusted))
    config.load()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login",
        "raw_path": b"/login",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"x-forwarded-for", b"203.0.113.7")],
        "client": (peer, 40000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    await config.loaded_app(scope, receive, send)
    return str(seen["client"])


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    # Untrusted by default, even from loopback (uvicorn alone would believe 127.0.0.1).
    assert await client_seen([], "127.0.0.1") == "127.0.0.1"
    assert await client_seen(["10.0.0.5"], "127.0.0.1") == "127.0.0.1"
    assert await client_seen(["10.0.0.5"], "10.0.0.5") == "203.0.113.7"
