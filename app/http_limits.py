"""Request limits applied to every `/api` call before routing: body size, JSON nesting depth, NUL bytes.

Checked on the raw bytes, so an oversized body is refused before it is parsed (413, never echoed back), a
deeply nested document never reaches the recursive JSON parser (422, not a RecursionError), and a NUL in a
body or query never reaches Postgres (422, not a 500).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import Invalid, http_body


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether ``body``'s brackets nest deeper than ``limit`` (strings are skipped; no parsing)."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _has_nul(body: bytes) -> bool:
    return b"\x00" in body or b"\\u0000" in body.lower()


class RequestLimits:
    """ASGI middleware for paths under ``prefix``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int, prefix: str = "/api/") -> None:
        self.app, self.max_bytes, self.max_depth, self.prefix = app, max_bytes, max_depth, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
            await _refuse(send, 422, "text must not contain NUL (\\u0000) characters")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, 413, f"the request body is larger than {self.max_bytes:,} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, f"the request body is larger than {self.max_bytes:,} bytes")
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        if body:
            if _has_nul(body):
                await _refuse(send, 422, "text must not contain NUL (\\u0000) characters")
                return
            if json_depth_exceeds(body, self.max_depth):
                await _refuse(send, 422, f"the JSON nests deeper than {self.max_depth} levels")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    # The same body as every other error (app.errors.http_body): all of these are bad input.
    payload = http_body(Invalid(message))
    data = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
