"""Data health over the seeded knowledge base, through the service, the CLI and the HTTP API."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from sqlalchemy import insert, select

from app.datahealth import data_health
from db import models as m


async def test_seeded_database_has_no_errors_and_every_table_is_filled(session) -> None:  # type: ignore[no-untyped-def]
    report = await data_health(session=session)
    assert report.errors == [], [e.message for e in report.errors[:5]]
    for table in ("models", "gpus", "prices", "benchmarks", "usecase_templates"):
        assert report.counts[table] > 0, table


async def test_impossible_benchmark_is_an_error(session) -> None:  # type: ignore[no-untyped-def]
    model_id = (await session.execute(select(m.Model.id).limit(1))).scalar_one()
    gpu_id = (await session.execute(select(m.Gpu.id).limit(1))).scalar_one()
    await session.execute(
        insert(m.Benchmark).values(
            source="test",
            row_key="k1",
            model_id=model_id,
            model_label="x",
            gpu_id=gpu_id,
            gpu_label="y",
            gpu_count=1,
            tp=2,
            precision="bf16",
            engine="vllm",
            engine_detail="vLLM 0.8.0",
            engine_version="0.8.0",
            ttft_ms_p50=100.0,
            ttft_ms_p90=80.0,
            extra={},
        )
    )
    report = await data_health(session=session)
    codes = {(e.code, e.message.split(":")[0]) for e in report.errors}
    assert ("benchmark_impossible_value", "tp") in codes
    assert ("benchmark_impossible_value", "ttft_ms_p90") in codes


async def test_model_without_benchmarks_is_a_warning(session) -> None:  # type: ignore[no-untyped-def]
    report = await data_health(session=session)
    unbenched = [w for w in report.warnings if w.code == "model_without_benchmarks"]
    assert unbenched, "the catalog has recommendable models with no published measurements"
    assert all("estimated" in w.message for w in unbenched)


def test_cli_json_shape_and_exit_code(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "data", "health", "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"errors", "warnings", "counts"}
    assert all(set(w) == {"code", "message", "object"} for w in report["warnings"])


async def test_http_health_endpoints(fresh_db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.api import create_app
    from app.auth import create_user
    from app.config import get_settings
    from db.session import dispose_engine, session_scope

    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    await dispose_engine()
    async with session_scope() as s:
        _, token = await create_user("health-checker", "a long password", session=s)
        _, admin = await create_user("health-admin", "a long password", admin=True, session=s)

    api = create_app(with_chat=False)
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        health = await client.get("/api/health")
        assert health.status_code == 200
        assert health.json()["database"]["ok"] is True
        assert (await client.get("/api/data/health")).status_code == 401
        # Server-wide counts (people, recommendations, deployments) are for administrators only.
        person = await client.get("/api/data/health", headers={"Authorization": f"Bearer {token}"})
        assert person.status_code == 403 and person.json()["kind"] == "forbidden"
        assert "counts" not in person.text
        data = await client.get("/api/data/health", headers={"Authorization": f"Bearer {admin}"})
        assert data.status_code == 200
        assert data.json()["errors"] == []
    await dispose_engine()
    get_settings.cache_clear()


async def test_infinite_price_stored_by_hand_is_flagged(session) -> None:  # type: ignore[no-untyped-def]
    gpu_id = (await session.execute(select(m.Gpu.id).limit(1))).scalar_one()
    await session.execute(
        insert(m.Price).values(
            gpu_id=gpu_id,
            kind="on_demand",
            provider="Hand",
            source="typed-in",
            label="typed in by hand",
            usd_per_gpu_hour=float("inf"),
        )
    )
    report = await data_health(session=session)
    flagged = [e for e in report.errors if e.code == "non_finite_value"]
    assert any(e.message == "usd_per_gpu_hour is inf" and e.object.startswith("prices/") for e in flagged)
