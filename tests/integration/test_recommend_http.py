"""POST /api/recommendations and the scenario routes over HTTP: API tokens, clear errors, owner scoping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    """An API client on a private seeded database, two users' tokens and a plannable specification."""
    from app.api import create_app
    from app.auth import create_user
    from app.config import get_settings
    from app.services.specify import spec_from_text
    from db.session import dispose_engine, session_scope

    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    await dispose_engine()
    async with session_scope() as s:
        _, alice = await create_user("alice", "a long password", session=s)
        _, bob = await create_user("bob", "another long password", session=s)
        spec = await spec_from_text("a chatbot for 1000 users, cheapest option", session=s)
    # Loose latency targets, so that options exist whatever the performance model's current calibration.
    spec = spec.edit(target_e2e_latency_p95_ms=20000, target_tpot_p90_ms=100)
    transport = httpx.ASGITransport(app=create_app(with_chat=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
        yield {"client": client, "alice": alice, "bob": bob, "spec": spec.model_dump(mode="json")}
    await dispose_engine()
    get_settings.cache_clear()


async def test_recommendation_needs_a_token(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    response = await client.post("/api/recommendations", json={"specification": api["spec"]})
    assert response.status_code == 401
    assert "Bearer" in response.text
    bad = await client.post(
        "/api/recommendations", json={"specification": api["spec"]}, headers=bearer("not-a-token")
    )
    assert bad.status_code == 401


async def test_recommendation_over_http_is_stored_and_owner_scoped(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    response = await client.post(
        "/api/recommendations", json={"specification": api["spec"], "top": 3}, headers=bearer(api["alice"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"recommendation_id", "specification", "traffic", "options", "rejected", "pareto"}
    assert 1 <= len(body["options"]) <= 3
    assert body["specification"]["priority"] == "cost"
    costs = [o["cost"]["monthly_usd"] for o in body["options"]]
    assert costs == sorted(costs)  # cost priority: cheapest first
    rid = body["recommendation_id"]
    mine = await client.get(f"/api/recommendations/{rid}", headers=bearer(api["alice"]))
    assert mine.status_code == 200
    assert mine.json()["options"][0]["model_id"] == body["options"][0]["model_id"]
    theirs = await client.get(f"/api/recommendations/{rid}", headers=bearer(api["bob"]))
    assert theirs.status_code == 404


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"concurrent_users": -5}, "concurrent_users"),
        ({"target_ttft_p90_ms": 0}, "target_ttft_p90_ms"),
        ({"available_gpus": ["XYZ-9000"]}, "unknown GPU 'XYZ-9000'"),
    ],
)
async def test_invalid_specifications_say_why(
    api: dict[str, Any], change: dict[str, Any], words: str
) -> None:
    client: httpx.AsyncClient = api["client"]
    response = await client.post(
        "/api/recommendations",
        json={"specification": {**api["spec"], **change}},
        headers=bearer(api["alice"]),
    )
    assert response.status_code in (400, 422), response.text
    assert words in response.json()["error"]


async def test_impossible_target_plans_and_says_what_to_relax(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    response = await client.post(
        "/api/recommendations",
        json={"specification": {**api["spec"], "target_ttft_p90_ms": 1}},
        headers=bearer(api["alice"]),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["options"] == []
    assert body["message"].startswith("nothing meets these constraints")
    assert "TTFT p90" in body["message"]
    assert any(r["field"] == "target_ttft_p90_ms" for r in body["relax"])


async def test_request_shape_errors_are_clear(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    neither = await client.post("/api/recommendations", json={}, headers=bearer(api["alice"]))
    assert neither.status_code == 422
    assert "either 'specification' or 'text'" in neither.json()["error"]
    pricing = await client.post(
        "/api/recommendations",
        json={"specification": api["spec"], "pricing": ["free"]},
        headers=bearer(api["alice"]),
    )
    assert pricing.status_code == 422
    assert "unknown kind" in pricing.json()["error"]


async def test_scenarios_save_list_compare_and_owner_scoping(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    alice, bob = bearer(api["alice"]), bearer(api["bob"])
    first = await client.post("/api/recommendations", json={"specification": api["spec"]}, headers=alice)
    assert first.status_code == 200, first.text
    busier = {
        **api["spec"],
        "expected_qps": api["spec"]["expected_qps"] * 4,
        "peak_qps": api["spec"]["peak_qps"] * 4,
    }
    second = await client.post("/api/recommendations", json={"specification": busier}, headers=alice)
    assert second.status_code == 200, second.text

    saved = await client.post(
        "/api/scenarios",
        json={"name": "A", "recommendation_id": first.json()["recommendation_id"]},
        headers=alice,
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["name"] == "A"
    assert saved.json()["option"]["model_id"] == first.json()["options"][0]["model_id"]
    b = await client.post(
        "/api/scenarios",
        json={"name": "B", "recommendation_id": second.json()["recommendation_id"]},
        headers=alice,
    )
    assert b.status_code == 201, b.text
    again = await client.post(
        "/api/scenarios",
        json={"name": "A", "recommendation_id": first.json()["recommendation_id"]},
        headers=alice,
    )
    assert again.status_code == 409

    listed = await client.get("/api/scenarios", headers=alice)
    assert listed.status_code == 200
    assert sorted(s["name"] for s in listed.json()) == ["A", "B"]
    shown = await client.get("/api/scenarios/A", headers=alice)
    assert shown.status_code == 200
    assert shown.json()["recommendation_id"] == first.json()["recommendation_id"]

    compared = await client.post("/api/scenarios/compare", json={"names": ["A", "B"]}, headers=alice)
    assert compared.status_code == 200, compared.text
    table = compared.json()
    assert [c["name"] for c in table["columns"]] == ["A", "B"]
    assert len(table["deltas"]) == 1
    assert table["rows"]

    # Bob sees none of Alice's scenarios and cannot save one from her recommendation.
    assert (await client.get("/api/scenarios", headers=bob)).json() == []
    assert (await client.get("/api/scenarios/A", headers=bob)).status_code == 404
    assert (
        await client.post("/api/scenarios/compare", json={"names": ["A", "B"]}, headers=bob)
    ).status_code == 404
    stolen = await client.post(
        "/api/scenarios",
        json={"name": "mine", "recommendation_id": first.json()["recommendation_id"]},
        headers=bob,
    )
    assert stolen.status_code == 404
    assert (await client.get("/api/scenarios", headers=alice)).status_code == 200
    assert (await client.get("/api/scenarios")).status_code == 401
