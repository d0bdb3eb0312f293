"""Schema migrations (Alembic) and first-use preparation of a database."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# An arbitrary constant: every Preflight process that prepares a database takes this lock first, so two
# processes starting at once never migrate or seed concurrently.
PREPARE_LOCK_ID = 0x5052_4546


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PREPARE_LOCK_ID})
        try:
            await conn.run_sync(_upgrade, revision)
            await conn.commit()
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PREPARE_LOCK_ID})
            await conn.commit()


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.connect() as conn:
        await conn.run_sync(_downgrade, revision)
        await conn.commit()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def prepare_database(engine: AsyncEngine, *, seed: bool = True) -> None:
    """Migrate to head, then load the bundled seed data if the catalog is empty."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PREPARE_LOCK_ID})
        await conn.commit()
        try:
            await conn.run_sync(_upgrade, "head")
            await conn.commit()
            if seed:
                from seed.loader import seed_if_empty

                await seed_if_empty(conn)
                await conn.commit()
        except BaseException:
            await conn.rollback()  # so the unlock below can run and the original error surfaces
            raise
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PREPARE_LOCK_ID})
            await conn.commit()
