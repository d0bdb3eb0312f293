"""Deploying locally end to end, through the real `preflight` command and the HTTP API.

recommendation -> manifests -> two local simulator replicas behind one URL -> streamed smoke test ->
delete, with the state history and the audit log checked in Postgres; a deploy killed with SIGKILL during
waiting_ready is resumed by reconcile; the API streams progress and scopes deployments by owner.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from support.deploy import deployment_row, recommendation_for, stop_leftovers

from app.auth import Principal, create_user
from app.deploy.targets.local import LocalRuntime, free_port, is_alive
from db import models as m
from db.session import make_engine

PREFLIGHT = [sys.executable, "-m", "app.cli"]


@pytest.fixture
def env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    out = {**cli_env, "PREFLIGHT_DATA_DIR": str(tmp_path / "data")}
    out.pop("PREFLIGHT_SIM_SLOW_START_S", None)
    return out


@pytest.fixture
async def engine(env: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(env["PREFLIGHT_DATABASE_URL"])
    yield eng
    await stop_leftovers(eng)
    await eng.dispose()


def preflight(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PREFLIGHT, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def states(engine: AsyncEngine, dep_id: str) -> list[tuple[str | None, str, str | None]]:
    async with async_sessionmaker(engine)() as s:
        rows = await s.execute(
            select(m.DeploymentEvent.from_state, m.DeploymentEvent.to_state, m.DeploymentEvent.actor)
            .where(m.DeploymentEvent.deployment_id == uuid.UUID(dep_id))
            .order_by(m.DeploymentEvent.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def audit_actions(engine: AsyncEngine, dep_id: str) -> list[str]:
    async with async_sessionmaker(engine)() as s:
        return list(
            (
                await s.execute(
                    select(m.AuditLog.action).where(m.AuditLog.object_id == dep_id).order_by(m.AuditLog.id)
                )
            ).scalars()
        )


def success_total(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("vllm:request_success_total{")
    )


async def test_cli_deploys_two_replicas_behind_one_url_smoke_tests_and_deletes(
    env: dict[str, str], engine: AsyncEngine, tmp_path: Path
) -> None:
    rec_id = await recommendation_for(engine)
    out_dir = tmp_path / "gitops"
    proc = preflight(
        env, "deploy", "--recommendation", rec_id, "--replicas", "2", "--output-dir", str(out_dir), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    events = ndjson(proc.stdout)
    dep_id = events[0]["deployment_id"]
    assert [e["to_state"] for e in events if e["kind"] == "state"] == [
        "validating",
        "applying",
        "waiting_ready",
        "ready",
    ]
    manifests = next(e for e in events if e["kind"] == "manifests")
    assert any(o.startswith("InferenceService/") for o in manifests["objects"])
    assert len(list(out_dir.glob("*.yaml"))) == manifests["count"]
    smoke = next(e for e in events if e["kind"] == "smoke")["result"]
    assert smoke["ok"] and smoke["chunks"] > 0 and smoke["ttft_ms"] > 0 and smoke["itl_ms_mean"] > 0
    finished = events[-1]
    assert finished["kind"] == "finished" and finished["ok"]
    endpoint = finished["endpoint"]

    dep = await deployment_row(engine, dep_id)
    runtime = LocalRuntime.model_validate(dep.runtime)
    assert dep.endpoint == endpoint == runtime.balancer().url  # type: ignore[union-attr]
    assert len(runtime.replicas()) == 2 and dep.runtime["endpoints"] == runtime.endpoints
    assert dep.smoke_test and dep.smoke_test["ok"]
    assert dep.recommendation_id == uuid.UUID(rec_id) and dep.prediction["rank"] == 1

    # `preflight test` through the one URL; the balancer spreads requests over both replicas.
    tested = preflight(env, "test", endpoint, "--json")
    assert tested.returncode == 0, tested.stderr
    assert json.loads(tested.stdout)["ok"]
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(4):
            r = await client.post(
                f"{endpoint}/v1/chat/completions",
                json={
                    # Clients name the served model (the catalog id), not the checkpoint repo it loads.
                    "model": dep.plan.get("served_model_name") or dep.plan["model_id"],
                    "messages": [{"role": "user", "content": "hi"}],
                    "max_tokens": 4,
                },
            )
            assert r.status_code == 200
        served = [success_total((await client.get(f"{u}/metrics")).text) for u in runtime.endpoints]
    assert all(n >= 2 for n in served), served

    shown = preflight(env, "deployments", "show", dep_id, "--json")
    assert shown.returncode == 0, shown.stderr
    assert [e["to_state"] for e in json.loads(shown.stdout)["events"]][-1] == "ready"

    deleted = preflight(env, "deployments", "delete", dep_id)
    assert deleted.returncode == 0, deleted.stderr
    assert not any(is_alive(p) for p in runtime.processes)
    assert [s[1] for s in await states(engine, dep_id)] == [
        "planned",
        "validating",
        "applying",
        "waiting_ready",
        "ready",
        "deleted",
    ]
    assert {s[2] for s in await states(engine, dep_id)} == {"system"}
    assert await audit_actions(engine, dep_id) == [
        "deployment.planned",
        "deployment.validating",
        "deployment.applying",
        "deployment.apply",
        "deployment.waiting_ready",
        "deployment.ready",
        "deployment.smoke_test",
        "deployment.deleted",
    ]


def deploy_then_kill_in_waiting_ready(env: dict[str, str], rec_id: str) -> str:
    """Run `preflight deploy` with slow-starting simulators; SIGKILL it once it reports waiting_ready."""
    slow = {**env, "PREFLIGHT_SIM_SLOW_START_S": "12"}  # inherited by the simulator processes
    proc = subprocess.Popen(
        [*PREFLIGHT, "deploy", "--recommendation", rec_id, "--replicas", "2", "--json"],
        env=slow,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dep_id = None
    try:
        assert proc.stdout is not None
        for text in proc.stdout:
            ev = json.loads(text)
            dep_id = ev["deployment_id"]
            if ev["kind"] == "state" and ev["to_state"] == "waiting_ready":
                break
        else:
            pytest.fail(f"the deploy ended before waiting_ready: {proc.stderr.read() if proc.stderr else ''}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL and dep_id is not None
    return dep_id


async def test_a_deploy_killed_during_waiting_ready_is_resumed_by_reconcile(
    env: dict[str, str], engine: AsyncEngine
) -> None:
    rec_id = await recommendation_for(engine)
    dep_id = deploy_then_kill_in_waiting_ready(env, rec_id)

    dep = await deployment_row(engine, dep_id)
    assert dep.state == "waiting_ready"
    runtime = LocalRuntime.model_validate(dep.runtime)
    assert len(runtime.replicas()) == 2 and all(is_alive(p) for p in runtime.processes)

    rec = preflight(env, "deployments", "reconcile", "--json")
    assert rec.returncode == 0, rec.stderr
    assert json.loads(rec.stdout) == [
        {
            "deployment_id": dep_id,
            "from_state": "waiting_ready",
            "to_state": "ready",
            "action": "resumed",
            "message": "deployment is ready",
        }
    ]
    dep = await deployment_row(engine, dep_id)
    assert dep.state == "ready" and dep.smoke_test and dep.smoke_test["ok"]
    # The processes started before the kill were reused, not started again.
    assert [p.pid for p in LocalRuntime.model_validate(dep.runtime).processes] == [
        p.pid for p in runtime.processes
    ]
    assert [s[1] for s in await states(engine, dep_id)] == [
        "planned",
        "validating",
        "applying",
        "waiting_ready",
        "ready",
    ]
    assert "deployment.resume" in await audit_actions(engine, dep_id)
    assert preflight(env, "deployments", "delete", dep_id).returncode == 0
    assert not any(is_alive(p) for p in runtime.processes)


async def test_api_streams_progress_and_scopes_deployments_by_owner(
    env: dict[str, str], engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import create_app
    from app.config import get_settings
    from db.session import dispose_engine

    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        ana, ana_token = await create_user("ana", "password123", session=s)
        _, bob_token = await create_user("bob", "password123", session=s)
        await s.commit()
    rec_id = await recommendation_for(engine, Principal(ana.id, "ana", False))
    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", env["PREFLIGHT_DATABASE_URL"])
    monkeypatch.setenv("PREFLIGHT_DATA_DIR", env["PREFLIGHT_DATA_DIR"])
    get_settings.cache_clear()
    await dispose_engine()
    app = create_app(with_chat=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://preflight", timeout=120
        ) as client:
            as_ana = {"Authorization": f"Bearer {ana_token}"}
            as_bob = {"Authorization": f"Bearer {bob_token}"}
            assert (await client.get("/api/deployments")).status_code == 401
            preview = await client.post(
                "/api/deployments", json={"recommendation_id": rec_id, "dry_run": True}, headers=as_ana
            )
            assert preview.status_code == 200 and "kind: InferenceService" in preview.json()["yaml"]
            assert (
                await client.post("/api/deployments", json={"recommendation_id": rec_id}, headers=as_bob)
            ).status_code == 404
            resp = await client.post(
                "/api/deployments?stream=true", json={"recommendation_id": rec_id}, headers=as_ana
            )
            assert resp.status_code == 200
            events = ndjson(resp.text)
            assert events[-1]["kind"] == "finished" and events[-1]["state"] == "ready", events[-1]
            dep_id = events[-1]["deployment_id"]
            assert [d["id"] for d in (await client.get("/api/deployments", headers=as_ana)).json()] == [
                dep_id
            ]
            assert (await client.get("/api/deployments", headers=as_bob)).json() == []
            assert (await client.get(f"/api/deployments/{dep_id}", headers=as_bob)).status_code == 404
            assert (await client.delete(f"/api/deployments/{dep_id}", headers=as_bob)).status_code == 404
            assert (await client.post(f"/api/deployments/{dep_id}/cancel", headers=as_ana)).status_code == 409
            gone = await client.delete(f"/api/deployments/{dep_id}?stream=true", headers=as_ana)
            assert ndjson(gone.text)[-1]["state"] == "deleted"
            detail = (await client.get(f"/api/deployments/{dep_id}", headers=as_ana)).json()
            assert detail["state"] == "deleted" and {e["actor"] for e in detail["events"]} == {"ana"}
    finally:
        await dispose_engine()
        get_settings.cache_clear()


def up_then_ctrl_c(env: dict[str, str]) -> tuple[int, str, str]:
    """Start `preflight up`, stop it with Ctrl-C once it is up: (exit code, stdout, stderr)."""
    up = subprocess.Popen(
        [*PREFLIGHT, "up", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert up.stdout is not None
        for line in up.stdout:
            if "Preflight is up" in line:
                break
        up.send_signal(signal.SIGINT)
        out, err = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    return up.returncode, out, err


async def test_local_deployments_outlive_up_which_says_so_and_stop_all_stops_them(
    env: dict[str, str], engine: AsyncEngine
) -> None:
    """The lifecycle choice: stopping `preflight up` leaves local deployments serving, says so and names
    the command that stops them; `preflight deployments stop-all` does."""
    rec_id = await recommendation_for(engine)
    proc = preflight(env, "deploy", "--recommendation", rec_id, "--replicas", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    dep_id = ndjson(proc.stdout)[-1]["deployment_id"]
    runtime = LocalRuntime.model_validate((await deployment_row(engine, dep_id)).runtime)
    assert runtime.processes and all(is_alive(p) for p in runtime.processes)

    returncode, out, err = up_then_ctrl_c(env)
    assert returncode == 0, err
    assert "1 local deployment(s) keep running" in out and dep_id in out
    assert "preflight deployments stop-all" in out
    assert all(is_alive(p) for p in runtime.processes)

    stopped = preflight(env, "deployments", "stop-all")
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped 1 local deployment(s)" in stopped.stdout
    assert not any(is_alive(p) for p in runtime.processes)
    assert (await deployment_row(engine, dep_id)).state == "deleted"
    again = preflight(env, "deployments", "stop-all")
    assert again.returncode == 0 and "no local deployment is running" in again.stdout
