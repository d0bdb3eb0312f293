"""People and their credentials: list, disable, enable and remove users; list, create and revoke API tokens;
sign in with a password, throttled per user name and per address.

Everyone manages their own tokens; administrators manage people and anyone's tokens. Another person's token
reads as not found. Each change is written to the audit log in the same transaction. The CLI (an operator
on the server, acting as ``system``), the HTTP API (``/api/me/tokens``) and the chat's sign-in call these.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth import Principal, audit, authenticate_password, authenticate_token, hash_token, issue_token
from app.auth import create_user as auth_create_user
from app.errors import Conflict, Forbidden, NotFound, RateLimited
from app.services.bounds import FiniteFloat, Name
from app.services.context import Context
from db import models as m

TokenState = Literal["active", "expired", "revoked"]
MAX_TOKEN_DAYS = 3650


class TokenView(BaseModel):
    """A token as people see it: never the secret, never its hash."""

    id: int
    name: str
    user: str
    state: TokenState
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedToken(TokenView):
    token: str = Field(description="The secret, shown once; only its sha256 is stored.")


class UserView(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None
    active_tokens: int


class CreateTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = "default"
    expires_in_days: FiniteFloat | None = Field(
        default=None, gt=0, le=MAX_TOKEN_DAYS, description="Unset: the token never expires."
    )


class SignInRequest(BaseModel):
    name: str = Field(max_length=200)
    password: str = Field(max_length=1000)
    client_ip: str = Field(max_length=64, description="The caller's address, for per-address throttling.")


# --- users (administrators) ---------------------------------------------------------------------------------
def _require_admin(ctx: Context, what: str) -> None:
    if not ctx.principal.is_admin:
        raise Forbidden(f"only an administrator can {what}")


async def _user(name: str, ctx: Context) -> m.User:
    user = (
        await ctx.session.execute(select(m.User).where(m.User.name == name).with_for_update())
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user named {name!r} (`preflight user list` shows who exists)")
    return user


async def act_as(name: str, ctx: Context) -> Principal:
    """The person an administrator acts for (the CLI's ``--user NAME``): their id, name and current role."""
    _require_admin(ctx, "act for another person")
    user = (await ctx.session.execute(select(m.User).where(m.User.name == name))).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no Preflight user named {name!r} (`preflight user add` creates one)")
    return Principal(user.id, user.name, user.role == "admin")


class CreateUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    password: str = Field(min_length=8, max_length=1000)
    admin: bool = False


class CreatedUser(BaseModel):
    name: str
    role: str
    token: str  # the first API token, in clear text: shown once, stored hashed


async def create_user(req: CreateUserRequest, ctx: Context) -> CreatedUser:
    """Add a person who can sign in, with a first API token (administrators; audited)."""
    _require_admin(ctx, "add people")
    taken = (await ctx.session.execute(select(m.User.id).where(m.User.name == req.name))).scalar_one_or_none()
    if taken is not None:
        raise Conflict(f"a user named {req.name!r} already exists")
    user, token = await auth_create_user(req.name, req.password, admin=req.admin, session=ctx.session)
    await audit(
        ctx.principal,
        "user.add",
        "user",
        str(user.id),
        {"name": user.name, "role": user.role},
        session=ctx.session,
    )
    return CreatedUser(name=user.name, role=user.role, token=token)


async def signed_in(name: str, ctx: Context) -> Principal | None:
    """The principal of a person an adapter has already authenticated by name (the chat's signed session),
    with their role as it is now (roles change after a sign-in); None when the user was removed or disabled
    since, so a disabled person's open chat stops working too."""
    user = (await ctx.session.execute(select(m.User).where(m.User.name == name))).scalar_one_or_none()
    if user is None or user.disabled_at is not None:
        return None
    return Principal(user.id, user.name, user.role == "admin")


async def authenticate(token: str, ctx: Context) -> Principal | None:
    """The person behind an API token; None for an unknown, expired or revoked one or a disabled account."""
    return await authenticate_token(token, session=ctx.session)


async def _user_view(user: m.User, ctx: Context) -> UserView:
    now = datetime.now(UTC)
    active = (
        await ctx.session.execute(
            select(func.count())
            .select_from(m.ApiToken)
            .where(
                m.ApiToken.user_id == user.id,
                m.ApiToken.revoked_at.is_(None),
                (m.ApiToken.expires_at.is_(None)) | (m.ApiToken.expires_at > now),
            )
        )
    ).scalar_one()
    return UserView(
        id=user.id,
        name=user.name,
        role=user.role,
        created_at=user.created_at,
        disabled_at=user.disabled_at,
        active_tokens=active,
    )


async def list_users(ctx: Context) -> list[UserView]:
    _require_admin(ctx, "list users")
    users = (await ctx.session.execute(select(m.User).order_by(m.User.name))).scalars().all()
    return [await _user_view(u, ctx) for u in users]


async def _ensure_another_admin(user: m.User, ctx: Context, doing: str) -> None:
    """Refuse to leave nobody able to administer Preflight."""
    if user.role != "admin" or user.disabled_at is not None:
        return
    others = (
        await ctx.session.execute(
            select(func.count())
            .select_from(m.User)
            .where(m.User.role == "admin", m.User.disabled_at.is_(None), m.User.id != user.id)
        )
    ).scalar_one()
    if not others:
        raise Conflict(f"cannot {doing} {user.name!r}: it is the last active administrator")


async def set_disabled(name: str, disabled: bool, ctx: Context) -> UserView:
    """Disable (no sign-in, every token refused; nothing is deleted) or enable a user again."""
    _require_admin(ctx, "disable or enable users")
    user = await _user(name, ctx)
    if disabled and user.disabled_at is None:
        await _ensure_another_admin(user, ctx, "disable")
        user.disabled_at = datetime.now(UTC)
        await audit(
            ctx.principal, "user.disable", "user", str(user.id), {"name": user.name}, session=ctx.session
        )
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        await audit(
            ctx.principal, "user.enable", "user", str(user.id), {"name": user.name}, session=ctx.session
        )
    await ctx.session.flush()
    return await _user_view(user, ctx)


async def remove_user(name: str, ctx: Context) -> None:
    """Delete a user and their tokens. What they own (deployments, recommendations, scenarios) stays, without
    an owner, for administrators; stop their deployments first if they should not keep running."""
    _require_admin(ctx, "remove users")
    user = await _user(name, ctx)
    await _ensure_another_admin(user, ctx, "remove")
    await audit(
        ctx.principal,
        "user.remove",
        "user",
        str(user.id),
        {"name": user.name, "role": user.role},
        session=ctx.session,
    )
    await ctx.session.delete(user)
    await ctx.session.flush()


# --- tokens (everyone: their own; administrators: anyone's) -------------------------------------------------
def _state(token: m.ApiToken, now: datetime) -> TokenState:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def _token_view(token: m.ApiToken, user_name: str, now: datetime) -> TokenView:
    return TokenView(
        id=token.id,
        name=token.name,
        user=user_name,
        state=_state(token, now),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


async def _owner(user: str | None, ctx: Context) -> m.User | None:
    """Whose tokens: ``user`` (administrators only, unless it is the caller), else the caller."""
    if user is not None and user != ctx.principal.name:
        _require_admin(ctx, "manage another person's tokens")
        return await _user(user, ctx)
    if ctx.principal.id is None:
        if user is None:
            return None  # the operator (system): everyone's
        return await _user(user, ctx)
    found = await ctx.session.get(m.User, ctx.principal.id)
    if found is None:
        raise NotFound("your account no longer exists")
    return found


async def list_tokens(ctx: Context, *, user: str | None = None) -> list[TokenView]:
    """The caller's tokens (``user``: someone else's, administrators only; the operator without ``user``:
    everyone's), newest first."""
    owner = await _owner(user, ctx)
    stmt = select(m.ApiToken, m.User.name).join(m.User, m.User.id == m.ApiToken.user_id)
    if owner is not None:
        stmt = stmt.where(m.ApiToken.user_id == owner.id)
    rows = (await ctx.session.execute(stmt.order_by(m.ApiToken.id.desc()))).all()
    now = datetime.now(UTC)
    return [_token_view(t, name, now) for t, name in rows]


async def create_token(req: CreateTokenRequest, ctx: Context, *, user: str | None = None) -> IssuedToken:
    owner = await _owner(user, ctx)
    if owner is None:
        raise NotFound("say whose token this is (`--user NAME`)")
    now = datetime.now(UTC)
    expires_at = now + timedelta(days=req.expires_in_days) if req.expires_in_days is not None else None
    limit = ctx.principal.credential_expires_at
    if limit is not None and (expires_at is None or expires_at > limit):
        # Otherwise a short-lived (or leaked) token could mint itself a permanent successor.
        raise Forbidden(
            f"expires_in_days: a token may only create tokens that expire no later than itself "
            f"({limit.isoformat(timespec='seconds')}); ask for at most "
            f"{max((limit - now).total_seconds() / 86400, 0):.2f} days or sign in with your password"
        )
    await _check_token_limits(owner, ctx, now)
    secret = await issue_token(owner, name=req.name, expires_at=expires_at, session=ctx.session)
    token = (
        await ctx.session.execute(select(m.ApiToken).where(m.ApiToken.token_hash == hash_token(secret)))
    ).scalar_one()
    await audit(
        ctx.principal,
        "token.create",
        "api_token",
        str(token.id),
        {"user": owner.name, "name": req.name, "expires_at": expires_at.isoformat() if expires_at else None},
        session=ctx.session,
    )
    return IssuedToken(**_token_view(token, owner.name, now).model_dump(), token=secret)


async def _check_token_limits(owner: m.User, ctx: Context, now: datetime) -> None:
    """At most ``token_max_active_per_user`` active tokens, and creation rate-limited per person (counted
    from the stored tokens, revoked ones included, so create-and-revoke loops are limited too)."""
    settings = ctx.settings
    # Lock the owner's row: concurrent creates are counted one after the other.
    await ctx.session.execute(select(m.User.id).where(m.User.id == owner.id).with_for_update())
    active = (
        await ctx.session.execute(
            select(func.count(m.ApiToken.id)).where(
                m.ApiToken.user_id == owner.id,
                m.ApiToken.revoked_at.is_(None),
                (m.ApiToken.expires_at.is_(None)) | (m.ApiToken.expires_at > now),
            )
        )
    ).scalar_one()
    if active >= settings.token_max_active_per_user:
        raise Conflict(
            f"{owner.name} has {active} active tokens and the limit is {settings.token_max_active_per_user} "
            "(token_max_active_per_user): revoke one first"
        )
    if ctx.principal.id is None:
        return  # the operator on the server is not rate-limited
    since = now - timedelta(seconds=settings.token_create_window_s)
    recent = list(
        (
            await ctx.session.execute(
                select(m.ApiToken.created_at)
                .where(m.ApiToken.user_id == owner.id, m.ApiToken.created_at > since)
                .order_by(m.ApiToken.created_at)
            )
        ).scalars()
    )
    if len(recent) >= settings.token_create_max_per_window:
        wait = (recent[0] - since).total_seconds()
        raise RateLimited(
            f"too many tokens created: at most {settings.token_create_max_per_window} per "
            f"{settings.token_create_window_s:g} s (token_create_max_per_window); "
            f"try again in {math.ceil(wait)} s",
            retry_after_s=max(wait, 1.0),
        )


async def revoke_token(token_id: int, ctx: Context, *, mine_only: bool = False) -> TokenView:
    """Revoke one token (from then on it is refused with 401). Revoking a revoked token changes nothing.
    Administrators may revoke anyone's, unless ``mine_only`` (the `/api/me` routes)."""
    row = (
        await ctx.session.execute(
            select(m.ApiToken, m.User.name)
            .join(m.User, m.User.id == m.ApiToken.user_id)
            .where(m.ApiToken.id == token_id)
            .with_for_update(of=m.ApiToken)
        )
    ).first()
    may = row is not None and (
        row[0].user_id == ctx.principal.id or (ctx.principal.is_admin and not mine_only)
    )
    if row is None or not may:
        raise NotFound(f"no API token {token_id} of yours (`preflight token list` shows them)")
    token, owner_name = row
    now = datetime.now(UTC)
    if token.revoked_at is None:
        token.revoked_at = now
        await audit(
            ctx.principal,
            "token.revoke",
            "api_token",
            str(token.id),
            {"user": owner_name},
            session=ctx.session,
        )
        await ctx.session.flush()
    return _token_view(token, owner_name, now)


# --- sign-in ------------------------------------------------------------------------------------------------
async def _throttled_for(
    where: list[ColumnElement[bool]], limit: int, ctx: Context, since: datetime
) -> float | None:
    """Seconds until the oldest counted failure leaves the window, when ``limit`` failures are in it."""
    count, oldest = (
        await ctx.session.execute(
            select(func.count(), func.min(m.LoginFailure.at)).where(*where, m.LoginFailure.at > since)
        )
    ).one()
    if count < limit or oldest is None:
        return None
    return (oldest - since).total_seconds()


def _throttles(name: str, ip: str, ctx: Context) -> list[tuple[str, str, list[ColumnElement[bool]], int]]:
    """(kind, audited value, condition, limit) per throttle. A user name is limited per address, so that
    guessing from one place cannot lock its owner out elsewhere; the per-name ceiling across all addresses
    is much higher and only slows guessing spread over many addresses."""
    settings = ctx.settings
    user, addr = m.LoginFailure.user_name == name, m.LoginFailure.ip == ip
    return [
        ("user_address", f"{name}@{ip}", [user, addr], settings.login_max_failures_per_user_address),
        ("address", ip, [addr], settings.login_max_failures_per_ip),
        ("user", name, [user], settings.login_max_failures_per_user),
    ]


_WHOM = {"user_address": "this user from this address", "address": "this address", "user": "this user"}


async def sign_in(req: SignInRequest, ctx: Context) -> Principal | None:
    """Check a name and password. None when they do not match (or the account is disabled).

    Raises :class:`RateLimited` (with the seconds to wait) when the name from this address, the address, or
    the name from everywhere has had too many failures in the window (``login_max_failures_per_user_address``
    / ``_per_ip`` / ``_per_user`` in ``login_window_s``); the password is then not even checked, so guessing
    gains nothing. A success clears the name's failures. The address is what the server sees: the TCP peer,
    or X-Forwarded-For only from a ``trusted_proxies`` address."""
    settings = ctx.settings
    now = datetime.now(UTC)
    since = now - timedelta(seconds=settings.login_window_s)
    name, ip = req.name[:80], req.client_ip[:64]
    for kind, _, where, limit in _throttles(name, ip, ctx):
        wait = await _throttled_for(where, limit, ctx, since)
        if wait is not None:
            raise RateLimited(
                f"too many failed sign-ins for {_WHOM[kind]}: try again in {math.ceil(wait)} s",
                retry_after_s=max(1.0, math.ceil(wait)),
            )
    principal = await authenticate_password(req.name, req.password, session=ctx.session)
    if principal is not None:
        await ctx.session.execute(delete(m.LoginFailure).where(m.LoginFailure.user_name == req.name))
        return principal
    # Failures older than the window no longer count: drop them, so the table stays small under guessing.
    await ctx.session.execute(delete(m.LoginFailure).where(m.LoginFailure.at <= since))
    ctx.session.add(m.LoginFailure(at=now, user_name=name, ip=ip))
    await ctx.session.flush()
    # Audit the failure that starts the throttling (not every refused attempt: that is the failures table).
    for kind, value, where, limit in _throttles(name, ip, ctx):
        count = (
            await ctx.session.execute(select(func.count()).where(*where, m.LoginFailure.at > since))
        ).scalar_one()
        if count == limit:
            await audit(
                Principal(None, "anonymous", False),
                "login.throttled",
                {"user_address": "user", "address": "address", "user": "user"}[kind],
                value,
                {"user": name, "ip": ip, "failures": count, "window_s": settings.login_window_s, "by": kind},
                session=ctx.session,
            )
    return None
