"""People and tokens against a real Postgres: `/api/me/tokens`, token expiry and revocation (401 from then
on), disabled and removed users, sign-in throttling per user name and per address, and the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from app.auth import Principal
from app.errors import Conflict, Forbidden, NotFound, RateLimited
from app.services import people
from app.services.context import Context, unit_of_work
from db import models as m

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    """An API client on a private database, and two people with a first token each."""
    from app.api import create_app
    from app.auth import create_user
    from app.config import get_settings
    from db.session import dispose_engine, session_scope

    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", fresh_db_url)
    get_settings.cache_clear()
    await dispose_engine()
    async with session_scope() as s:
        _, ana = await create_user("ana", "a long password", session=s)
        _, bob = await create_user("bob", "another long password", session=s)
    transport = httpx.ASGITransport(app=create_app(with_chat=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
        yield {"client": client, "ana": ana, "bob": bob}
    await dispose_engine()
    get_settings.cache_clear()


async def audit_actions(action_prefix: str) -> list[tuple[str, str, str | None]]:
    from db.session import session_scope

    async with session_scope() as s:
        rows = await s.execute(
            select(m.AuditLog.actor, m.AuditLog.action, m.AuditLog.object_id)
            .where(m.AuditLog.action.startswith(action_prefix))
            .order_by(m.AuditLog.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def test_a_person_lists_creates_and_revokes_their_own_tokens(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    mine = await client.get("/api/me/tokens", headers=bearer(api["ana"]))
    assert mine.status_code == 200
    assert [(t["user"], t["name"], t["state"]) for t in mine.json()] == [("ana", "default", "active")]
    assert "token" not in mine.json()[0] and "token_hash" not in mine.json()[0]

    created = await client.post(
        "/api/me/tokens", json={"name": "ci", "expires_in_days": 30}, headers=bearer(api["ana"])
    )
    assert created.status_code == 201, created.text
    body = created.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29.9) < expires - datetime.now(UTC) <= timedelta(days=30)
    ci_token = body["token"]
    assert (await client.get("/api/me/tokens", headers=bearer(ci_token))).status_code == 200

    # Bob can neither see nor revoke Ana's token.
    assert [t["user"] for t in (await client.get("/api/me/tokens", headers=bearer(api["bob"]))).json()] == [
        "bob"
    ]
    assert (
        await client.delete(f"/api/me/tokens/{body['id']}", headers=bearer(api["bob"]))
    ).status_code == 404

    revoked = await client.delete(f"/api/me/tokens/{body['id']}", headers=bearer(api["ana"]))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    refused = await client.get("/api/me/tokens", headers=bearer(ci_token))
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]
    # Ana's other token still works, and lists the revoked one as revoked.
    states = {
        t["name"]: t["state"] for t in (await client.get("/api/me/tokens", headers=bearer(api["ana"]))).json()
    }
    assert states == {"default": "active", "ci": "revoked"}
    assert [a[1] for a in await audit_actions("token.")] == ["token.create", "token.revoke"]


async def test_token_bounds_are_422_naming_the_field(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    for body, field in (
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 100000}, "expires_in_days"),
        ({"name": ""}, "name"),
        ({"name": "x" * 500}, "name"),
        ({"scope": "all"}, "scope"),
    ):
        r = await client.post("/api/me/tokens", json=body, headers=bearer(api["ana"]))
        assert r.status_code == 422 and field in r.json()["error"], (body, r.text)
    assert (await client.delete("/api/me/tokens/0", headers=bearer(api["ana"]))).status_code == 422
    assert (await client.delete("/api/me/tokens/999999", headers=bearer(api["ana"]))).status_code == 404


async def test_an_expired_token_is_refused(api: dict[str, Any]) -> None:
    from db.session import session_scope

    client: httpx.AsyncClient = api["client"]
    created = (
        await client.post("/api/me/tokens", json={"expires_in_days": 1}, headers=bearer(api["ana"]))
    ).json()
    assert (await client.get("/api/me/tokens", headers=bearer(created["token"]))).status_code == 200
    async with session_scope() as s:  # a day later
        await s.execute(
            update(m.ApiToken)
            .where(m.ApiToken.id == created["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    refused = await client.get("/api/me/tokens", headers=bearer(created["token"]))
    assert refused.status_code == 401 and "expired" in refused.json()["error"]
    listed = (await client.get("/api/me/tokens", headers=bearer(api["ana"]))).json()
    assert {t["id"]: t["state"] for t in listed}[created["id"]] == "expired"


async def test_disabled_and_removed_people_are_refused(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    operator = Principal.system()
    async with unit_of_work(operator) as ctx:
        view = await people.set_disabled("bob", True, ctx)
    assert view.disabled_at is not None
    assert (await client.get("/api/me/tokens", headers=bearer(api["bob"]))).status_code == 401
    async with unit_of_work(operator) as ctx:
        await people.set_disabled("bob", False, ctx)
    assert (await client.get("/api/me/tokens", headers=bearer(api["bob"]))).status_code == 200

    async with unit_of_work(operator) as ctx:
        await people.remove_user("bob", ctx)
        names = [u.name for u in await people.list_users(ctx)]
    assert "bob" not in names and "ana" in names
    assert (await client.get("/api/me/tokens", headers=bearer(api["bob"]))).status_code == 401
    assert [a[1] for a in await audit_actions("user.")][-3:] == ["user.disable", "user.enable", "user.remove"]


async def test_people_admin_is_for_administrators_and_keeps_one_admin(api: dict[str, Any]) -> None:
    from app.auth import create_user
    from db.session import session_scope

    async with session_scope() as s:
        root, _ = await create_user("root", "a long password", admin=True, session=s)
        ana = (await s.execute(select(m.User).where(m.User.name == "ana"))).scalar_one()
    as_ana = Principal(ana.id, "ana", False)
    as_root = Principal(root.id, "root", True)
    async with unit_of_work(as_ana) as ctx:
        with pytest.raises(Forbidden):
            await people.list_users(ctx)
        with pytest.raises(Forbidden):
            await people.set_disabled("bob", True, ctx)
        with pytest.raises(Forbidden):
            await people.list_tokens(ctx, user="bob")
    async with unit_of_work(as_root) as ctx:
        with pytest.raises(Conflict, match="last active administrator"):
            await people.set_disabled("root", True, ctx)
        with pytest.raises(Conflict, match="last active administrator"):
            await people.remove_user("root", ctx)
        with pytest.raises(NotFound):
            await people.remove_user("nobody", ctx)
        # An administrator may manage someone else's tokens.
        issued = await people.create_token(people.CreateTokenRequest(name="ops"), ctx, user="bob")
        assert issued.user == "bob" and issued.state == "active"
        assert (await people.revoke_token(issued.id, ctx)).state == "revoked"


async def sign_in(ctx: Context, name: str, password: str, ip: str) -> Principal | None:
    return await people.sign_in(people.SignInRequest(name=name, password=password, client_ip=ip), ctx)


async def test_sign_in_is_throttled_per_user_and_address_and_per_address(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("PREFLIGHT_LOGIN_MAX_FAILURES_PER_USER_ADDRESS", "3")
    monkeypatch.setenv("PREFLIGHT_LOGIN_MAX_FAILURES_PER_IP", "5")
    monkeypatch.setenv("PREFLIGHT_LOGIN_MAX_FAILURES_PER_USER", "6")
    get_settings.cache_clear()
    anon = Principal(None, "anonymous", False)
    for _ in range(3):
        async with unit_of_work(anon) as ctx:
            assert await sign_in(ctx, "ana", "wrong password", "10.0.0.1") is None
    # The fourth try from that address is refused before the password is checked: even the right one.
    async with unit_of_work(anon) as ctx:
        with pytest.raises(RateLimited) as refused:
            await sign_in(ctx, "ana", "a long password", "10.0.0.1")
    assert refused.value.retry_after_s is not None and 1 <= refused.value.retry_after_s <= 900
    assert "this user from this address" in str(refused.value)
    # The guesser cannot lock Ana out: from her own address she signs in.
    async with unit_of_work(anon) as ctx:
        assert await sign_in(ctx, "ana", "a long password", "10.0.0.9") is not None
    # An address guessing across names is throttled as an address.
    for name in ("carol", "dave", "erin", "frank", "gus"):
        async with unit_of_work(anon) as ctx:
            assert await sign_in(ctx, name, "guess", "10.0.0.2") is None
    async with unit_of_work(anon) as ctx:
        with pytest.raises(RateLimited, match="this address"):
            await sign_in(ctx, "bob", "another long password", "10.0.0.2")
    async with unit_of_work(anon) as ctx:
        assert await sign_in(ctx, "bob", "another long password", "10.0.0.3") is not None
    # Guessing one name from many addresses meets the much higher per-name ceiling.
    for i in range(5):
        async with unit_of_work(anon) as ctx:
            assert await sign_in(ctx, "carol", "guess", f"10.0.1.{i}") is None
    async with unit_of_work(anon) as ctx:
        with pytest.raises(RateLimited, match="for this user:"):
            await sign_in(ctx, "carol", "guess", "10.0.2.1")
    throttled = await audit_actions("login.throttled")
    assert [(actor, obj) for actor, _, obj in throttled] == [
        ("anonymous", "ana@10.0.0.1"),
        ("anonymous", "10.0.0.2"),
        ("anonymous", "carol"),
    ]


async def test_an_expiring_token_cannot_mint_a_longer_lived_one(api: dict[str, Any]) -> None:
    client: httpx.AsyncClient = api["client"]
    short = await client.post("/api/me/tokens", json={"expires_in_days": 1}, headers=bearer(api["ana"]))
    assert short.status_code == 201, short.text
    short_token = short.json()["token"]
    for body in ({}, {"expires_in_days": 30}):
        r = await client.post("/api/me/tokens", json=body, headers=bearer(short_token))
        assert r.status_code == 403, r.text
        assert r.json()["kind"] == "forbidden" and "no later than itself" in r.json()["error"]
    shorter = await client.post("/api/me/tokens", json={"expires_in_days": 0.5}, headers=bearer(short_token))
    assert shorter.status_code == 201, shorter.text
    # A token without expiry (the first one) may still mint a token without expiry.
    forever = await client.post("/api/me/tokens", json={}, headers=bearer(api["ana"]))
    assert forever.status_code == 201 and forever.json()["expires_at"] is None


async def test_tokens_are_capped_per_person_and_creation_is_rate_limited(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    client: httpx.AsyncClient = api["client"]
    monkeypatch.setenv("PREFLIGHT_TOKEN_MAX_ACTIVE_PER_USER", "3")
    monkeypatch.setenv("PREFLIGHT_TOKEN_CREATE_MAX_PER_WINDOW", "4")
    get_settings.cache_clear()
    ids = []
    for _ in range(2):  # ana holds one token already
        r = await client.post("/api/me/tokens", json={"name": "extra"}, headers=bearer(api["ana"]))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    capped = await client.post("/api/me/tokens", json={}, headers=bearer(api["ana"]))
    assert capped.status_code == 409 and "token_max_active_per_user" in capped.json()["error"]
    # Revoking makes room under the cap, but not under the creation rate (4 created in the window).
    assert (await client.delete(f"/api/me/tokens/{ids[0]}", headers=bearer(api["ana"]))).status_code == 200
    again = await client.post("/api/me/tokens", json={}, headers=bearer(api["ana"]))
    assert again.status_code == 201, again.text
    assert (await client.delete(f"/api/me/tokens/{ids[1]}", headers=bearer(api["ana"]))).status_code == 200
    limited = await client.post("/api/me/tokens", json={}, headers=bearer(api["ana"]))
    assert limited.status_code == 429, limited.text
    assert (
        limited.json()["kind"] == "rate_limited" and "token_create_max_per_window" in limited.json()["error"]
    )
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    # Bob's limits are his own.
    assert (await client.post("/api/me/tokens", json={}, headers=bearer(api["bob"]))).status_code == 201
