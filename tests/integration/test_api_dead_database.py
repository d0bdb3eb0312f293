"""With the database down, the API says so clearly (503 with what to check), never a traceback."""

from __future__ import annotations

import httpx
import pytest


async def test_health_reports_a_dead_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api import create_app
    from app.config import get_settings
    from db.session import dispose_engine

    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    await dispose_engine()
    try:
        api = create_app(with_chat=False)
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            health = await client.get("/api/health")
            assert health.status_code == 503
            body = health.json()
            assert body["database"]["ok"] is False
            assert "cannot reach the database" in body["database"]["error"]
            assert "Traceback" not in health.text
    finally:
        await dispose_engine()
        get_settings.cache_clear()
