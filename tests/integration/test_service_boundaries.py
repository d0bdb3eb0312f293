"""The service layer's boundaries over real HTTP on a real database: ownership, server-side paths,
load-test targets, input bounds, capacity. Each test reproduces a defect found attacking `preflight up`
(issue 14)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    """An API on a private seeded database: alice and bob (people), root (admin), a deployment of alice's
    and a plannable specification."""
    from app.api import create_app
    from app.auth import create_user
    from app.config import get_settings
    from app.services.specify import spec_from_text
    from app.services.workers import reset_cpu_pool
    from db import models as m
    from db.session import dispose_engine, session_scope

    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    reset_cpu_pool()
    await dispose_engine()
    async with session_scope() as s:
        alice_user, alice = await create_user("alice", "a long password", session=s)
        _, bob = await create_user("bob", "another long password", session=s)
        _, root = await create_user("root", "the admin password", admin=True, session=s)
        spec = await spec_from_text("a chatbot for 1000 users, cheapest option", session=s)
        spec = spec.edit(target_e2e_latency_p95_ms=20000, target_tpot_p90_ms=100)
        dep = m.Deployment(
            name="alice-obs",
            owner_id=alice_user.id,
            state="running",
            specification=spec.model_dump(mode="json"),
            endpoint="http://127.0.0.1:9/v1",
        )
        s.add(dep)
        await s.flush()
        dep_id = str(dep.id)
    transport = httpx.ASGITransport(app=create_app(with_chat=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
        yield {
            "client": client,
            "alice": alice,
            "bob": bob,
            "root": root,
            "deployment": dep_id,
            "spec": spec.model_dump(mode="json"),
        }
    await dispose_engine()
    reset_cpu_pool()
    get_settings.cache_clear()


# --- 1 and 4: observation is owner-scoped and bounded in points ----------------------------------------


async def test_observation_of_another_persons_deployment_reads_as_missing(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    dep = api["deployment"]
    for path in (f"/api/deployments/{dep}/observation", f"/api/deployments/{dep}/timeseries"):
        mine = await client.get(path, headers=bearer(api["alice"]))
        assert mine.status_code == 200, mine.text
        theirs = await client.get(path, headers=bearer(api["bob"]))
        missing = await client.get(path.replace(dep, str(uuid.uuid4())), headers=bearer(api["bob"]))
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["error"].replace(dep, "ID") == missing.json()["error"].split(" with id ")[0] + (
            " with id ID"
        )
        admin = await client.get(path, headers=bearer(api["root"]))
        assert admin.status_code == 200


@pytest.mark.parametrize("kind", ["observation", "timeseries"])
async def test_a_tiny_step_over_a_long_window_is_refused_naming_the_bound(
    api: dict[str, Any], kind: str
) -> None:
    client: httpx.AsyncClient = api["client"]
    path = f"/api/deployments/{api['deployment']}/{kind}"
    tiny = await client.get(path, params={"window_s": 3600, "step_s": 0.000001}, headers=bearer(api["alice"]))
    assert tiny.status_code == 422 and "step_s" in tiny.text
    month = await client.get(path, params={"window_s": 30 * 86400, "step_s": 1}, headers=bearer(api["alice"]))
    assert month.status_code == 422
    assert "at most 2,000" in month.json()["error"] and "step_s" in month.json()["error"]
    fine = await client.get(path, params={"window_s": 86400, "step_s": 60}, headers=bearer(api["alice"]))
    assert fine.status_code == 200, fine.text


# --- 2: no server paths in requests ------------------------------------------------------------------------


async def test_a_deploy_request_cannot_write_or_read_server_paths(
    api: dict[str, Any], tmp_path: Path
) -> None:
    client: httpx.AsyncClient = api["client"]
    rec = await client.post(
        "/api/recommendations", json={"specification": api["spec"], "top": 1}, headers=bearer(api["alice"])
    )
    assert rec.status_code == 200, rec.text
    rid = rec.json()["recommendation_id"]
    target = tmp_path / "written-by-a-user"
    wrote = await client.post(
        "/api/deployments",
        json={"recommendation_id": rid, "dry_run": True, "output_dir": str(target)},
        headers=bearer(api["alice"]),
    )
    assert wrote.status_code == 422 and "output_dir" in wrote.text
    assert not target.exists()
    answers = []
    for path in ("/etc/passwd", "/no/such/file"):
        r = await client.post(
            "/api/deployments",
            json={"recommendation_id": rid, "dry_run": True, "target": "kubernetes", "kubeconfig": path},
            headers=bearer(api["alice"]),
        )
        assert r.status_code == 422
        answers.append(r.json()["error"])
    # The same answer whether or not the file exists: nothing about the server's files is revealed.
    assert answers[0] == answers[1] and "passwd" not in answers[0]
    preview = await client.post(
        "/api/deployments", json={"recommendation_id": rid, "dry_run": True}, headers=bearer(api["alice"])
    )
    assert preview.status_code == 200, preview.text


# --- 3: load tests only against the caller's own deployments ---------------------------------------------


@pytest.fixture
async def listener() -> AsyncIterator[dict[str, Any]]:
    """A real TCP server that counts connections: proof that a refused load test sent nothing."""
    seen = {"connections": 0}

    async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    seen["url"] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    yield seen
    server.close()
    await server.wait_closed()


async def test_load_tests_never_target_foreign_endpoints(
    api: dict[str, Any], listener: dict[str, Any]
) -> None:
    client: httpx.AsyncClient = api["client"]
    body = {"endpoint": listener["url"], "concurrency": 4, "duration_s": 1}
    person = await client.post("/api/loadtests", json=body, headers=bearer(api["alice"]))
    assert person.status_code == 403, person.text
    admin = await client.post("/api/loadtests", json=body, headers=bearer(api["root"]))
    assert admin.status_code == 403  # not on the allow-list
    closed = await client.post(
        "/api/loadtests", json={**body, "endpoint": "http://127.0.0.1:9"}, headers=bearer(api["root"])
    )
    # Reachable or not, the same words: the API cannot be used to probe addresses.
    assert closed.json()["error"] == admin.json()["error"] == person.json()["error"]
    assert listener["connections"] == 0
    foreign = await client.post(
        "/api/loadtests",
        json={"deployment_id": api["deployment"], "concurrency": 2, "duration_s": 1},
        headers=bearer(api["bob"]),
    )
    assert foreign.status_code == 404


async def test_load_test_bounds_and_missing_fields_are_422(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    own = {"deployment_id": api["deployment"], "duration_s": 1}
    missing = await client.post("/api/loadtests", json=own, headers=bearer(api["alice"]))
    assert missing.status_code == 422 and "concurrency" in missing.json()["error"]
    flood = await client.post(
        "/api/loadtests", json={**own, "concurrency": 100000}, headers=bearer(api["alice"])
    )
    assert flood.status_code == 422 and "concurrency: at most 64" in flood.json()["error"]
    long = await client.post(
        "/api/loadtests", json={**own, "concurrency": 2, "duration_s": 86400}, headers=bearer(api["alice"])
    )
    assert long.status_code == 422 and "duration_s: at most 300" in long.json()["error"]
    rate = await client.post(
        "/api/loadtests", json={**own, "profile": "poisson", "rate": 1e6}, headers=bearer(api["alice"])
    )
    assert rate.status_code == 422 and "rate: at most 200" in rate.json()["error"]


# --- 7: bad input is a 422 that names the bound, never a 500 ----------------------------------------------


async def test_nul_bytes_are_refused_everywhere(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    headers = bearer(api["alice"])
    text = await client.post(
        "/api/recommendations", json={"text": "a chatbot\u0000 for 10 users"}, headers=headers
    )
    assert text.status_code == 422 and "NUL" in text.text
    spec = await client.post(
        "/api/recommendations",
        json={"specification": {**api["spec"], "use_case_description": "x\u0000y"}},
        headers=headers,
    )
    assert spec.status_code == 422
    name = await client.post(
        "/api/scenarios", json={"name": "a\u0000b", "recommendation_id": str(uuid.uuid4())}, headers=headers
    )
    assert name.status_code == 422
    query = await client.get("/api/outcomes/similar", params={"q": "chat\u0000bot"}, headers=headers)
    assert query.status_code == 422


async def test_deep_and_huge_bodies_are_refused_without_echo(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    headers = {**bearer(api["alice"]), "content-type": "application/json"}
    deep = "[" * 100_000 + "]" * 100_000
    nested = await client.post("/api/recommendations", content=deep, headers=headers)
    assert nested.status_code == 422 and "nests deeper" in nested.text
    huge = '{"text": "' + "x" * (20 * 1024 * 1024) + '"}'
    big = await client.post("/api/recommendations", content=huge, headers=headers)
    assert big.status_code == 413 and len(big.content) < 1000
    long_text = await client.post(
        "/api/recommendations", json={"text": "x" * 50_000}, headers=bearer(api["alice"])
    )
    assert long_text.status_code == 422 and len(long_text.content) < 2000


async def test_numbers_must_be_finite(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    headers = {**bearer(api["alice"]), "content-type": "application/json"}
    for body in (
        '{"specification": %s, "space_usd_per_gpu_month": Infinity}',
        '{"specification": %s, "space_usd_per_gpu_month": NaN}',
    ):
        r = await client.post("/api/recommendations", content=body % json.dumps(api["spec"]), headers=headers)
        assert r.status_code == 422, r.text
        assert "space_usd_per_gpu_month" in r.json()["error"]
    spec = json.dumps(dict(api["spec"], max_monthly_cost_usd=123456.789)).replace("123456.789", "Infinity")
    r = await client.post("/api/recommendations", content=f'{{"specification": {spec}}}', headers=headers)
    assert r.status_code == 422 and "max_monthly_cost_usd" in r.json()["error"]


# --- 6: planning runs on a bounded pool; full is 429 with Retry-After --------------------------------------


async def test_a_full_planning_pool_answers_429_with_retry_after(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from app.config import get_settings
    from app.services.workers import cpu_pool, reset_cpu_pool

    monkeypatch.setenv("PREFLIGHT_CPU_WORKERS", "1")
    monkeypatch.setenv("PREFLIGHT_CPU_QUEUE", "0")
    get_settings.cache_clear()
    reset_cpu_pool()
    pool = cpu_pool()
    release = threading.Event()
    busy = asyncio.create_task(pool.run(release.wait, 60))
    await asyncio.sleep(0)  # the task runs up to its first await: it has taken the only slot
    assert pool.admitted == 1
    client: httpx.AsyncClient = api["client"]
    body = {"specification": api["spec"], "top": 1}
    full = await client.post("/api/recommendations", json=body, headers=bearer(api["alice"]))
    assert full.status_code == 429, full.text
    assert int(full.headers["Retry-After"]) >= 1 and "capacity" in full.json()["error"]
    release.set()
    await busy
    again = await client.post("/api/recommendations", json=body, headers=bearer(api["alice"]))
    assert again.status_code == 200, again.text


# --- routes that used to open their own session: threads and corrections go through the services -----------


async def test_chat_threads_are_owner_scoped_through_the_api(api: dict[str, Any]) -> None:
    from sqlalchemy import text

    from db.session import session_scope

    client: httpx.AsyncClient = api["client"]
    thread_id = str(uuid.uuid4())
    async with session_scope() as s:
        await s.execute(
            text(
                'INSERT INTO chainlit.threads ("id", "name", "userIdentifier", "createdAt") '
                "VALUES (:id, 'sizing a chatbot', 'alice', '2026-12-04T10:00:00Z')"
            ),
            {"id": uuid.UUID(thread_id)},
        )
    mine = await client.get("/api/threads", headers=bearer(api["alice"]))
    assert mine.status_code == 200 and [t["id"] for t in mine.json()] == [thread_id]
    assert (await client.get("/api/threads", headers=bearer(api["bob"]))).json() == []
    theirs = await client.get(f"/api/threads/{thread_id}", headers=bearer(api["bob"]))
    missing = await client.get(f"/api/threads/{uuid.uuid4()}", headers=bearer(api["bob"]))
    assert theirs.status_code == missing.status_code == 404
    admin = await client.get(f"/api/threads/{thread_id}", headers=bearer(api["root"]))
    assert admin.status_code == 200 and admin.json()["owner"] == "alice"
    assert (await client.get("/api/threads/not-a-uuid", headers=bearer(api["alice"]))).status_code == 404


async def test_corrections_answer_and_refuse_nul_names(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    params = {"model_id": "Qwen/Qwen2.5-7B-Instruct", "gpu_id": "nvidia-l4"}
    none_yet = await client.get("/api/corrections", params=params, headers=bearer(api["bob"]))
    assert none_yet.status_code == 200, none_yet.text
    assert none_yet.json()["n_outcomes"] == 0 and none_yet.json()["ttft"] == 1.0
    bad = await client.get(
        "/api/corrections", params={**params, "gpu_id": "l4\u0000"}, headers=bearer(api["bob"])
    )
    assert bad.status_code == 422
    assert (await client.get("/api/corrections", params=params)).status_code == 401


def test_cli_observe_commands_go_through_the_services(api: dict[str, Any], fresh_db_url: str) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PREFLIGHT_DATABASE_URL": fresh_db_url, "PYTHONPATH": str(root)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    similar = cli("observe", "similar", "a chatbot for support")
    assert similar.returncode == 0, similar.stderr
    assert "no similar outcome" in similar.stdout
    for ident in (str(uuid.uuid4()), "not-a-uuid"):
        missing = cli("loadtest", "http://127.0.0.1:9", "--concurrency", "1", "--deployment", ident)
        assert missing.returncode == 1, missing.stderr
        assert "no deployment with id" in missing.stderr and "Traceback" not in missing.stderr


# --- probe 1: local deployments have per-person quotas; replicas beyond the target's cap are refused -------


async def test_local_replicas_beyond_the_cap_and_beyond_the_quota_are_refused(api: dict[str, Any]) -> None:
    from sqlalchemy import select

    from db import models as m
    from db.session import session_scope

    client: httpx.AsyncClient = api["client"]
    headers = bearer(api["alice"])
    rec = await client.post(
        "/api/recommendations", json={"specification": api["spec"], "top": 1}, headers=headers
    )
    assert rec.status_code == 200, rec.text
    rid = rec.json()["recommendation_id"]
    # 40 replicas used to be accepted (202) and quietly run as 16 processes.
    for dry_run in (True, False):
        big = await client.post(
            "/api/deployments",
            json={"recommendation_id": rid, "replicas": 40, "dry_run": dry_run},
            headers=headers,
        )
        assert big.status_code == 422, big.text
        assert (
            big.json()["kind"] == "invalid"
            and "replicas" in big.json()["error"]
            and "16" in big.json()["error"]
        )
    # Alice already holds five local deployments of three replicas each (rows, so no process starts).
    async with session_scope() as s:
        owner = (await s.execute(select(m.User.id).where(m.User.name == "alice"))).scalar_one()
        for i in range(5):
            s.add(
                m.Deployment(
                    name=f"held-{i}", owner_id=owner, state="ready", target="local", plan={"replicas_min": 3}
                )
            )
    full = await client.post(
        "/api/deployments", json={"recommendation_id": rid, "replicas": 1}, headers=headers
    )
    assert full.status_code == 409, full.text
    assert full.json()["kind"] == "conflict" and "deploy_max_active_per_user" in full.json()["error"]
    async with session_scope() as s:
        first = (await s.execute(select(m.Deployment).where(m.Deployment.name == "held-0"))).scalar_one()
        first.state = "deleted"
    # Four left, twelve replicas: two more fit under 16, five do not.
    over = await client.post(
        "/api/deployments", json={"recommendation_id": rid, "replicas": 5}, headers=headers
    )
    assert over.status_code == 409, over.text
    assert "deploy_max_local_replicas_per_user" in over.json()["error"] and "12" in over.json()["error"]


async def test_administrators_are_exempt_from_the_deployment_quotas(api: dict[str, Any]) -> None:
    """What config.py and the CHANGELOG say (issue 14 leftover 3): the quotas bind people, not
    administrators. Through the service (records the deployment, starts no process): with six held local
    deployments of three replicas each, alice is refused and root is not."""
    from sqlalchemy import select

    from app.auth import Principal
    from app.errors import Conflict
    from app.services import deployments
    from app.services.context import unit_of_work
    from db import models as m
    from db.session import session_scope

    client: httpx.AsyncClient = api["client"]
    recs = {}
    for who in ("alice", "root"):
        r = await client.post(
            "/api/recommendations", json={"specification": api["spec"], "top": 1}, headers=bearer(api[who])
        )
        assert r.status_code == 200, r.text
        recs[who] = r.json()["recommendation_id"]
    people = {}
    async with session_scope() as s:
        for name in ("alice", "root"):
            user = (await s.execute(select(m.User).where(m.User.name == name))).scalar_one()
            people[name] = Principal(user.id, name, user.role == "admin")
            for i in range(6):
                s.add(
                    m.Deployment(
                        name=f"{name}-held-{i}",
                        owner_id=user.id,
                        state="ready",
                        target="local",
                        plan={"replicas_min": 3},
                    )
                )

    async def create(name: str) -> Any:
        async with unit_of_work(people[name]) as ctx:
            planned = await deployments.plan(
                deployments.DeployRequest(recommendation_id=recs[name], replicas=2), ctx
            )
            return await deployments.create(planned, ctx, deployments.ServerPaths())

    with pytest.raises(Conflict, match="deploy_max_active_per_user"):
        await create("alice")
    view = await create("root")
    assert view.state == "planned"


# --- probe 2: a replan that clears a required number is a 422 in plain words, never a 500 ------------------


async def test_replan_with_a_null_or_out_of_range_change_is_a_plain_422(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    headers = bearer(api["alice"])
    rec = await client.post(
        "/api/recommendations", json={"specification": api["spec"], "top": 1}, headers=headers
    )
    assert rec.status_code == 200, rec.text
    saved = await client.post(
        "/api/scenarios",
        json={"name": "s1", "recommendation_id": rec.json()["recommendation_id"]},
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    for changes, field in (
        ({"expected_qps": None}, "expected_qps"),
        ({"target_ttft_p90_ms": -3}, "target_ttft_p90_ms"),
    ):
        r = await client.post("/api/scenarios/s1/replan", json={"changes": changes}, headers=headers)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["kind"] == "invalid" and f"{field}: " in body["error"]
        assert "pydantic.dev" not in body["error"] and "input_value" not in body["error"]


async def test_the_chat_reads_through_the_services_in_the_persons_scope(api: dict[str, Any]) -> None:
    """Issue 14 leftover 1: the chat's reads (saved scenarios, my deployments, the settings panel, the
    signed-in person) used to open their own sessions and query tables; they now go through service
    functions, with the same ownership. A person disabled after signing in loses their open chat too."""
    from app.auth import Principal
    from app.chat import deploying, flow
    from app.errors import NotFound
    from app.services import people
    from app.services.context import unit_of_work

    client: httpx.AsyncClient = api["client"]
    alice = await flow.principal_for("alice")
    bob = await flow.principal_for("bob")
    assert alice is not None and bob is not None and not alice.is_admin
    rec = await client.post(
        "/api/recommendations", json={"specification": api["spec"], "top": 1}, headers=bearer(api["alice"])
    )
    assert rec.status_code == 200, rec.text
    rid = rec.json()["recommendation_id"]
    first = await flow.save_scenario("mine", recommendation_id=rid, rank=1, principal=alice)
    second = await flow.save_scenario("mine", recommendation_id=rid, rank=1, principal=alice)
    assert (first.name, second.name) == ("mine", "mine (2)") and first.option is not None
    assert [s.id for s in await flow.scenarios([second.id, first.id], principal=alice)] == [
        second.id,
        first.id,
    ]
    assert await flow.scenarios([first.id], principal=bob) == []
    with pytest.raises(NotFound):
        await flow.load_recommendation(rid, principal=bob)

    mine, total = await deploying.my_deployments(principal=alice)
    assert total == 1 and mine[0].owner == "alice" and mine[0].specification == api["spec"]
    assert await deploying.my_deployments(principal=bob) == ([], 0)
    assert (await flow.choices(alice)).gpus

    async with unit_of_work(Principal.system()) as ctx:
        await people.set_disabled("alice", True, ctx)
    assert await flow.principal_for("alice") is None


async def test_a_recommendation_without_an_owner_is_for_administrators_only(api: dict[str, Any]) -> None:
    """Attack pass (issue 14 leftover 4): once bob was removed, his recommendation (now without an owner)
    could be deployed, and its specification read back, by any person; reads already said "administrators
    only" for ownerless rows."""
    from app.auth import Principal
    from app.services import people
    from app.services.context import unit_of_work

    client: httpx.AsyncClient = api["client"]
    rec = await client.post(
        "/api/recommendations", json={"specification": api["spec"], "top": 1}, headers=bearer(api["bob"])
    )
    assert rec.status_code == 200, rec.text
    rid = rec.json()["recommendation_id"]
    async with unit_of_work(Principal.system()) as ctx:
        await people.remove_user("bob", ctx)
    body = {"recommendation_id": rid, "replicas": 1, "dry_run": True}
    alice = await client.post("/api/deployments", json=body, headers=bearer(api["alice"]))
    assert alice.status_code == 404 and alice.json()["kind"] == "not_found", alice.text
    read = await client.get(f"/api/recommendations/{rid}", headers=bearer(api["alice"]))
    assert read.status_code == 404, read.text
    root = await client.post("/api/deployments", json=body, headers=bearer(api["root"]))
    assert root.status_code == 200, root.text
