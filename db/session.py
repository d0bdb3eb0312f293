"""Engine and sessions.

``get_engine()`` resolves the database (the configured URL, or the embedded server), and on first use
migrates it to the latest revision and seeds it when empty. Service functions take an ``AsyncSession`` as a
keyword-only argument; callers open one with ``session_scope()``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.config import Settings, get_settings
from app.errors import Unavailable

logger = logging.getLogger(__name__)


class DatabaseUnavailableError(Unavailable):
    """The database cannot be reached. The message says what to check."""

    hint = "The knowledge base is unavailable; Preflight keeps retrying the connection."


class DatabaseBusyError(DatabaseUnavailableError):
    """Every connection of the pool stayed busy for the pool timeout; retrying soon helps."""

    default_retry_after_s = 2.0


_CHECK = (
    "Is it running? Check PREFLIGHT_DATABASE_URL (or `preflight db status` for the embedded server); "
    "Preflight reconnects on its own once it answers."
)


def as_unavailable(e: BaseException) -> DatabaseUnavailableError | None:
    """The database-level meaning of a driver error that says the server is gone or saturated, else None.

    Integrity errors, bad SQL and the like are not translated: they are bugs or conflicts, not outages."""
    if isinstance(e, DatabaseUnavailableError):
        return e
    if isinstance(e, PoolTimeoutError):
        return DatabaseBusyError(
            "the database is busy: no connection became free in time; retry in a few seconds "
            "(an administrator can raise PREFLIGHT_DB_POOL_SIZE)"
        )
    gone = isinstance(e, (ConnectionError, OperationalError, InterfaceError)) or (
        isinstance(e, DBAPIError)
        and (e.connection_invalidated or isinstance(getattr(e, "orig", None), (OSError, ConnectionError)))
    )
    if not gone:
        return None
    return DatabaseUnavailableError(f"the database stopped answering: {_first_line(e)}. {_CHECK}")


class DatabasePrepareError(DatabaseUnavailableError):
    """The database answers, but migrating or seeding it failed."""


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e)
    return text.strip().splitlines()[0][:400] if text.strip() else type(e).__name__


def to_asyncpg_url(url: str) -> str:
    """Accept postgresql://, postgres:// and postgresql+asyncpg:// and return the asyncpg form."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def to_sync_url(url: str) -> str:
    """The psycopg2 form of a URL (used by Alembic's offline tools and by tests)."""
    return "postgresql+psycopg2://" + to_asyncpg_url(url)[len("postgresql+asyncpg://") :]


def resolve_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    if settings.database_url:
        return to_asyncpg_url(settings.database_url)
    from db.embedded import ensure_running

    return ensure_running(settings.pg_dir)


def _connect_args(url: str) -> tuple[str, dict[str, object]]:
    # asyncpg cannot take a unix socket as `host=` query parameter through SQLAlchemy's URL parsing on its
    # own, so pass it through connect_args.
    query = parse_qs(urlsplit(url).query)
    if "host" in query:
        return url.split("?", 1)[0], {"host": query["host"][0]}
    return url, {}


def make_engine(url: str, settings: Settings | None = None) -> AsyncEngine:
    url, connect_args = _connect_args(url)
    settings = settings or get_settings()
    # Sized for the worker pool (every admitted planning request holds one connection) plus the other
    # routes; a request that still finds none waits pool_timeout and then gets a 503, never a 500.
    return create_async_engine(
        url,
        pool_pre_ping=True,
        connect_args=connect_args,
        pool_size=settings.db_pool_size,
        max_overflow=max(2, settings.db_pool_size // 2),
        pool_timeout=settings.db_pool_timeout_s,
    )


def make_health_engine(url: str, settings: Settings | None = None) -> AsyncEngine:
    """One connection of its own for `/api/health`: a check that waits behind busy request connections
    (pool timeout, pre-ping, reset on return: three round trips) says nothing about the database and is
    slow exactly under load. Autocommit and no pre-ping make a check one round trip; a broken connection is
    invalidated by the failing check and replaced by the next one."""
    url, connect_args = _connect_args(url)
    settings = settings or get_settings()
    connect_args = {**connect_args, "timeout": settings.health_timeout_s}
    return create_async_engine(
        url,
        connect_args=connect_args,
        pool_size=1,
        max_overflow=0,
        pool_timeout=settings.health_timeout_s,
        pool_reset_on_return=None,
        isolation_level="AUTOCOMMIT",
    )


_engine: AsyncEngine | None = None
_health_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None
_lock = asyncio.Lock()


async def get_engine(*, prepare: bool = True) -> AsyncEngine:
    """The process-wide engine. With ``prepare``, the schema is migrated and seeded on first use."""
    global _engine, _health_engine, _sessionmaker
    async with _lock:
        if _engine is None:
            settings = get_settings()
            url = await asyncio.to_thread(resolve_url, settings)
            engine = make_engine(url, settings)
            try:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            except (OSError, OperationalError, DBAPIError) as e:
                await engine.dispose()
                raise DatabaseUnavailableError(
                    f"cannot reach the database ({describe_url(url)}): {_first_line(e)}. Is it running? "
                    "Check PREFLIGHT_DATABASE_URL, or unset it to use the embedded server."
                ) from e
            if prepare:
                from db.migrate import prepare_database

                try:
                    await prepare_database(engine, seed=settings.auto_seed)
                except Exception as e:
                    await engine.dispose()
                    raise DatabasePrepareError(
                        f"preparing the database ({describe_url(url)}) failed: {_first_line(e)}. "
                        "Run `preflight db upgrade` for a migration error, or `preflight seed load` on the "
                        "bundled files in seed/data to see which rows are refused."
                    ) from e
            _engine = engine
            _health_engine = make_health_engine(url, settings)
            _sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        return _engine


async def check_database() -> None:
    """Raise unless the database answers ``SELECT 1`` within the health timeout, on the health check's own
    connection (see :func:`make_health_engine`)."""
    await get_engine()
    assert _health_engine is not None
    timeout_s = get_settings().health_timeout_s
    try:
        async with asyncio.timeout(timeout_s), _health_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except TimeoutError as e:
        raise DatabaseUnavailableError(f"the database did not answer within {timeout_s:g} s. {_CHECK}") from e


async def dispose_engine() -> None:
    global _engine, _health_engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    if _health_engine is not None:
        await _health_engine.dispose()
    _engine, _health_engine, _sessionmaker = None, None, None


def describe_url(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    host = parse_qs(parts.query).get("host", [""])[0]
    return f"{parts.scheme}://{netloc}{parts.path}" + (f" (socket {host})" if host else "")


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error. A lost or saturated database becomes
    :class:`DatabaseUnavailableError` (503 / exit 3); the pool reconnects by itself once it is back."""
    await get_engine()
    assert _sessionmaker is not None
    async with _sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException as e:
            try:
                await session.rollback()
            except Exception as rollback_error:  # the connection is gone too; the first error says why
                logger.debug("rollback failed: %s", rollback_error)
            down = as_unavailable(e)
            if down is not None and down is not e:
                raise down from e
            raise
