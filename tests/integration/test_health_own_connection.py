"""`/api/health` answers from its own connection: requests holding every connection of the shared pool
(a load peak) do not make the server look down. (A database that is down still gives 503:
test_api_dead_database.py, test_database_outage.py.)"""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

pytestmark = pytest.mark.integration


async def test_health_is_ok_while_the_shared_pool_is_exhausted(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import create_app
    from app.config import get_settings
    from db.session import dispose_engine, get_engine

    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("PREFLIGHT_DB_POOL_SIZE", "1")
    monkeypatch.setenv("PREFLIGHT_DB_POOL_TIMEOUT_S", "1")
    get_settings.cache_clear()
    await dispose_engine()
    try:
        engine = await get_engine()
        async with AsyncExitStack() as held:
            # "Requests" take connections until the shared pool has none left to give.
            exhausted = False
            for _ in range(20):
                try:
                    await held.enter_async_context(engine.connect())
                except PoolTimeoutError:
                    exhausted = True
                    break
            assert exhausted
            api = create_app(with_chat=False)
            transport = httpx.ASGITransport(app=api)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                health = await client.get("/api/health")
        assert health.status_code == 200, health.text
        assert health.json()["database"]["ok"] is True
    finally:
        await dispose_engine()
        get_settings.cache_clear()
