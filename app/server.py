"""`preflight up`: prepare the database, make sure someone can sign in, then serve the app until Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
import secrets

logger = logging.getLogger(__name__)


async def ensure_first_admin() -> tuple[str, str, str] | None:
    """On a database with no users, create `admin` with a random password: (name, password, api token).

    Without it, a fresh `preflight up` would serve a sign-in page nobody can pass.
    """
    from sqlalchemy import func, select

    from app.auth import create_user
    from db import models as m
    from db.session import session_scope

    async with session_scope() as session:
        if (await session.execute(select(func.count()).select_from(m.User))).scalar_one():
            return None
        password = secrets.token_urlsafe(12)
        _, token = await create_user("admin", password, admin=True, session=session)
    return "admin", password, token


def serve(host: str, port: int) -> None:
    import typer
    import uvicorn

    from app.api import create_app
    from db.session import dispose_engine, get_engine

    # Prepare (start, migrate, seed) before binding, so the first page load is not the one that waits.
    async def prepare() -> tuple[str, str, str] | None:
        await get_engine()
        first = await ensure_first_admin()
        await dispose_engine()
        return first

    first = asyncio.run(prepare())
    url = f"http://{host}:{port}"
    if first is not None:
        name, password, token = first
        typer.echo(
            f"No users yet: created the admin '{name}' with password {password}\n"
            f"  API token (shown once): {token}\n"
            "  Add people with `preflight user add NAME`."
        )
    typer.echo(f"Preflight is up at {url} (Ctrl-C stops it)")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
