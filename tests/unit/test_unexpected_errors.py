"""A bug (an error without a kind) is logged exactly once, with its traceback, and the person gets a clear
message, never a traceback (issue 14, leftover 2).

Before: the API's catch-all handler logged the error and Starlette re-raised it, so uvicorn logged the same
traceback again; the deployment service logged a bug and re-raised it to an adapter that logged it too; the
CLI printed Python's own traceback with no message. The HTTP case runs the real app under a real uvicorn
server on a local port (no database: the failing route needs none, and the lifespan is off)."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import pytest
import typer
import uvicorn
from support.waiting import wait_until
from typer.testing import CliRunner

pytestmark = pytest.mark.unit


class Boom(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], Boom)]


async def test_an_unexpected_api_error_is_logged_once_and_answered_with_a_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from app.api import create_app

    api = create_app(with_chat=False)

    @api.get("/boom")
    async def boom() -> None:
        raise Boom("a bug")

    port = _free_port()
    # log_config None: uvicorn's loggers propagate to the root logger, so its own error log is captured too.
    server = uvicorn.Server(uvicorn.Config(api, port=port, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    caplog.set_level(logging.ERROR)
    try:
        await wait_until(lambda: asyncio.sleep(0, result=server.started), "uvicorn to start")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            r = await client.get("/boom")
            ok = await client.get("/api/nothing-here")
    finally:
        server.should_exit = True
        await task

    assert r.status_code == 500
    body = r.json()
    request_id = r.headers["X-Request-ID"]
    assert body["kind"] is None and request_id in body["error"] and "Traceback" not in r.text
    assert "a bug" not in r.text  # the bug's own text stays in the log
    logged = _tracebacks(caplog)
    assert len(logged) == 1, [rec.getMessage() for rec in logged]
    assert request_id in logged[0].getMessage()
    assert ok.status_code == 404  # the server kept serving


def test_an_unexpected_cli_error_logs_one_traceback_and_says_it_is_a_bug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from app.cli_support import run_async

    app = typer.Typer()

    async def failing() -> None:
        raise Boom("a bug")

    @app.command()
    def go() -> None:
        run_async(failing)

    caplog.set_level(logging.ERROR)
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 1
    assert "unexpected error" in result.output and "bug" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no raw traceback
    assert len(_tracebacks(caplog)) == 1
