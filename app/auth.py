"""People and their credentials: scrypt password hashes and per-user API tokens (stored as sha256)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Invalid
from db import models as m

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class UserError(Invalid, ValueError):
    """A user cannot be created or authenticated; the message says why."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: every service that reads or changes owned objects takes one."""

    id: int | None
    name: str
    is_admin: bool
    # When the credential this principal acted with stops working (an expiring API token); None: it does
    # not expire (a password sign-in, a token without expiry, the operator). Tokens it mints expire no later.
    credential_expires_at: datetime | None = None

    @classmethod
    def system(cls) -> Principal:
        return cls(id=None, name="system", is_admin=True)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    name: str, password: str, *, admin: bool = False, session: AsyncSession
) -> tuple[m.User, str]:
    """Create a user and a first API token; returns the token in clear text (it is stored hashed)."""
    if not _NAME.match(name):
        raise UserError(
            "a user name is 1-80 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    if len(password) < 8:
        raise UserError("the password must be at least 8 characters")
    exists = (await session.execute(select(m.User.id).where(m.User.name == name))).scalar_one_or_none()
    if exists is not None:
        raise UserError(f"a user named {name!r} already exists")
    user = m.User(name=name, password_hash=hash_password(password), role="admin" if admin else "user")
    session.add(user)
    await session.flush()
    token = await issue_token(user, session=session)
    await audit(
        Principal(user.id, name, admin),
        "user.create",
        "user",
        str(user.id),
        {"role": user.role},
        session=session,
    )
    return user, token


async def issue_token(
    user: m.User, *, name: str = "default", expires_at: datetime | None = None, session: AsyncSession
) -> str:
    """A new API token for ``user``; returned in clear text once (only its sha256 is stored)."""
    token = "pf_" + secrets.token_urlsafe(32)
    session.add(m.ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), expires_at=expires_at))
    await session.flush()
    return token


async def authenticate_password(name: str, password: str, *, session: AsyncSession) -> Principal | None:
    """The person with this name and password, unless disabled. Throttling is the caller's
    (:func:`app.services.people.sign_in`): this only checks the credentials."""
    user = (await session.execute(select(m.User).where(m.User.name == name))).scalar_one_or_none()
    if user is None or not verify_password(password, user.password_hash) or user.disabled_at is not None:
        return None
    return Principal(user.id, user.name, user.role == "admin")


async def authenticate_token(token: str, *, session: AsyncSession) -> Principal | None:
    """The owner of an API token that is neither revoked nor expired, unless the owner is disabled."""
    now = datetime.now(UTC)
    row = (
        await session.execute(
            select(m.ApiToken, m.User)
            .join(m.User, m.User.id == m.ApiToken.user_id)
            .where(
                m.ApiToken.token_hash == hash_token(token),
                m.ApiToken.revoked_at.is_(None),
                or_(m.ApiToken.expires_at.is_(None), m.ApiToken.expires_at > now),
                m.User.disabled_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    api_token, user = row
    api_token.last_used_at = now
    return Principal(user.id, user.name, user.role == "admin", credential_expires_at=api_token.expires_at)


async def audit(
    who: Principal,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: dict[str, object] | None = None,
    *,
    session: AsyncSession,
) -> None:
    """Append to the audit log in the caller's transaction, so the record and the change commit together."""
    session.add(
        m.AuditLog(
            actor=who.name, action=action, object_type=object_type, object_id=object_id, detail=detail or {}
        )
    )
