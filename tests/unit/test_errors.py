"""One error hierarchy: each area error has a kind, and each kind maps once to exit code, HTTP and chat."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from app import errors
from app.http_limits import json_depth_exceeds

pytestmark = pytest.mark.unit


def test_area_errors_carry_their_kind() -> None:
    from app.deploy.service import DeploymentBusyError, DeploymentError, DeploymentNotFoundError
    from app.deploy.targets.kubernetes import ClusterUnreachableError
    from app.observe.loadtest import LoadTargetUnreachableError, LoadTestError
    from app.perf.errors import UnknownGpuError
    from app.planning.scenarios import ScenarioExists, ScenarioNotFound
    from db.session import DatabaseBusyError, DatabaseUnavailableError

    cases = {
        DeploymentNotFoundError("x"): ("not_found", 404, 1),
        DeploymentBusyError("x"): ("conflict", 409, 1),
        DeploymentError("x"): ("invalid", 422, 2),
        ScenarioNotFound("x"): ("not_found", 404, 1),
        ScenarioExists("x"): ("conflict", 409, 1),
        UnknownGpuError("x"): ("invalid", 422, 2),
        LoadTestError("x"): ("invalid", 422, 2),
        LoadTargetUnreachableError("x"): ("unavailable", 503, 3),
        ClusterUnreachableError("x"): ("unavailable", 503, 3),
        DatabaseUnavailableError("x"): ("unavailable", 503, 3),
        DatabaseBusyError("x"): ("unavailable", 503, 3),
        errors.RateLimited("x"): ("rate_limited", 429, 3),
        errors.Forbidden("x"): ("forbidden", 403, 1),
    }
    for error, (kind, status, code) in cases.items():
        assert (errors.kind_of(error), errors.http_status(error), errors.exit_code(error)) == (
            kind,
            status,
            code,
        ), type(error).__name__
    # Area errors keep their old bases, so existing `except ValueError/LookupError` still catch them.
    assert isinstance(UnknownGpuError("x"), ValueError) and isinstance(ScenarioNotFound("x"), ValueError)
    assert isinstance(DeploymentNotFoundError("x"), LookupError)


def test_retry_after_only_where_waiting_helps() -> None:
    assert errors.retry_after(errors.RateLimited("busy", retry_after_s=0.2)) == 1
    assert errors.retry_after(errors.Unavailable("down")) == 5
    assert errors.retry_after(errors.NotFound("gone")) is None
    assert errors.retry_after(RuntimeError("bug")) is None


def test_unknown_errors_are_500_and_a_generic_chat_message() -> None:
    bug = KeyError("internal detail")
    assert errors.kind_of(bug) is None and errors.http_status(bug) == 500 and errors.exit_code(bug) == 1
    assert "internal detail" not in errors.chat_message(bug)


def test_validation_errors_name_the_field_and_never_echo_the_input() -> None:
    class M(BaseModel):
        count: int = Field(le=10)

    with pytest.raises(ValidationError) as info:
        M(count=10**30)
    message = errors.public_message(info.value)
    assert "count" in message and "10" in message and str(10**30) not in message
    assert errors.http_status(info.value) == 422


def test_pool_timeout_and_lost_connections_mean_unavailable() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    from db.session import DatabaseBusyError, as_unavailable

    assert isinstance(as_unavailable(PoolTimeoutError("QueuePool limit reached")), DatabaseBusyError)
    lost = as_unavailable(OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused")))
    assert lost is not None and "stopped answering" in str(lost)
    assert as_unavailable(IntegrityError("INSERT", {}, Exception("duplicate key"))) is None
    assert as_unavailable(FileNotFoundError("/x")) is None


def test_json_depth_is_measured_without_parsing() -> None:
    assert not json_depth_exceeds(b'{"a": [1, {"b": 2}]}', 3)
    assert json_depth_exceeds(b'{"a": [1, {"b": [2]}]}', 3)
    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[\\"]]]]"}', 2)  # brackets inside strings do not count
    assert json_depth_exceeds(b"[" * 100_000, 32)


async def test_a_raw_driver_error_outside_a_session_is_503_logged_once_without_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A route that meets the outage as a raw driver error (its own engine, not ``session_scope``) answers
    503 from the routing layer; nothing is re-raised to the ASGI server (which would log a traceback)."""
    import logging

    import httpx
    from sqlalchemy.exc import IntegrityError, OperationalError

    from app.api import create_app

    api = create_app(with_chat=False)

    @api.get("/api/test-outage")
    async def outage() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    @api.get("/api/test-bug")
    async def bug() -> None:
        raise IntegrityError("INSERT", {}, ValueError("duplicate key"))

    added = api.router.routes[-2:]  # served before the /api catch-all (a 404 for unknown paths)
    api.router.routes[:] = added + api.router.routes[:-2]
    # The default transport re-raises whatever escapes the app: a 503 here means it was answered, not raised.
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with caplog.at_level(logging.WARNING):
            down = await client.get("/api/test-outage")
        assert down.status_code == 503 and "database stopped answering" in down.json()["error"]
        assert int(down.headers["Retry-After"]) >= 1
        records = [r for r in caplog.records if "test-outage" in r.getMessage()]
        assert len(records) == 1 and records[0].exc_info is None, caplog.records
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            broken = await client.get("/api/test-bug")
        assert broken.status_code == 500 and "duplicate" not in broken.text
        assert len([r for r in caplog.records if r.exc_info]) == 1
