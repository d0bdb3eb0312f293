"""The database going away mid-run: every `/api` route answers 503 with what to check (never a 500), sign-in
in the chat says the knowledge base is unavailable (not a wrong password), and everything recovers on its
own when the database is back, without a restart. The outage is real: a TCP proxy in front of the embedded
PostgreSQL is closed, cutting open connections and refusing new ones."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pg_proxy import PgProxy

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def outage(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    from app.api import create_app
    from app.auth import create_user
    from app.config import get_settings
    from db.session import dispose_engine, session_scope

    proxy = PgProxy(fresh_db_url)
    await proxy.start()
    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", proxy.url)
    monkeypatch.setenv("PREFLIGHT_DB_POOL_TIMEOUT_S", "5")
    get_settings.cache_clear()
    await dispose_engine()
    async with session_scope() as s:
        _, token = await create_user("alice", "a long password", session=s)
    api = create_app(with_chat=False)
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
        yield {"client": client, "token": token, "proxy": proxy, "app": api}
    await proxy.stop()
    await dispose_engine()
    get_settings.cache_clear()


def api_routes(app: Any) -> list[tuple[str, str]]:
    """Every documented `/api` route (the OpenAPI schema) as (method, path with placeholder ids)."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        out.extend((method.upper(), concrete) for method in sorted(operations))
    return out


async def wait_until_ok(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        r = await client.get(path, headers=headers)
        if r.status_code == 200 or time.monotonic() > deadline:
            return r
        await asyncio.sleep(0.2)


async def test_every_route_is_503_while_the_database_is_down_and_recovers(outage: dict[str, Any]) -> None:
    client: httpx.AsyncClient = outage["client"]
    headers = {"Authorization": f"Bearer {outage['token']}"}
    assert (await client.get("/api/scenarios", headers=headers)).status_code == 200
    await outage["proxy"].stop()
    routes = api_routes(outage["app"])
    assert len(routes) > 15
    for method, path in routes:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        r = await client.request(method, path, headers=headers, json=body)
        assert r.status_code == 503, f"{method} {path}: {r.status_code} {r.text[:300]}"
        assert "Traceback" not in r.text
        if path != "/api/health":
            assert "database" in r.json()["error"] and int(r.headers["Retry-After"]) >= 1
    await outage["proxy"].start()
    back = await wait_until_ok(client, "/api/scenarios", headers)
    assert back.status_code == 200, back.text
    assert (await client.get("/api/health")).status_code == 200


async def test_chat_sign_in_says_the_knowledge_base_is_down_not_wrong_password(
    outage: dict[str, Any],
) -> None:
    from fastapi import HTTPException

    from app.chat import flow

    assert (await flow.sign_in("alice", "a long password")) is not None
    assert (await flow.sign_in("alice", "wrong password")) is None
    await outage["proxy"].stop()
    with pytest.raises(HTTPException) as info:
        await flow.sign_in("alice", "a long password")
    assert info.value.status_code == 503
    assert "knowledge base is unavailable" in info.value.detail and "retrying" in info.value.detail
    # Chainlit's sign-in page shows the translation of the status text (503 Service Unavailable).
    translations = json.loads((ROOT / ".chainlit/translations/en-US.json").read_text())
    assert translations["auth"]["login"]["errors"]["service unavailable"] == info.value.detail
    await outage["proxy"].start()
    deadline = time.monotonic() + 60
    principal = await _try_sign_in(flow)
    while principal is None and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        principal = await _try_sign_in(flow)
    assert principal is not None and principal.name == "alice"


async def _try_sign_in(flow: Any) -> Any:
    from fastapi import HTTPException

    try:
        return await flow.sign_in("alice", "a long password")
    except HTTPException:
        return None
