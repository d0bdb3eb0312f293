"""A load-test endpoint that answers but is no model server is named as such, not as unreachable
(issue 14 probe 8: `preflight loadtest http://127.0.0.1:8765`, Preflight itself, printed "cannot reach ...:
200, unexpected mimetype"). Real aiohttp servers on loopback stand in for the app and a wrong JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from app.observe.loadtest import LoadTargetUnreachableError, LoadTestError, discover_model

pytestmark = pytest.mark.unit


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async def page(_: web.Request) -> web.Response:
        return web.Response(text="<html>Preflight</html>", content_type="text/html")

    async def other_json(_: web.Request) -> web.Response:
        return web.json_response(["not", "a", "model", "list"])

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "m1"}]})

    app = web.Application()
    app.router.add_get("/v1/models", page)
    app.router.add_get("/json/v1/models", other_json)
    app.router.add_get("/ok/v1/models", models)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_web_page_is_named_not_openai_compatible_not_unreachable(base_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(LoadTestError) as page:
            await discover_model(session, base_url)
        assert not isinstance(page.value, LoadTargetUnreachableError)
        text = str(page.value)
        assert "answered, but it is not an OpenAI-compatible streaming server" in text and "text/html" in text
        assert "mimetype" not in text and "cannot reach" not in text
        with pytest.raises(LoadTestError, match="not an OpenAI-compatible"):
            await discover_model(session, base_url + "/json")
        assert await discover_model(session, base_url + "/ok") == "m1"
