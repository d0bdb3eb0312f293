"""Shared fixtures: a real embedded PostgreSQL (pgvector) for the whole run, a migrated and seeded template
database cloned per need, and per-test isolation through a rolled-back outer transaction.

Tiers follow folders: tests/unit, tests/integration, tests/e2e, tests/k8s, tests/llm. Each test gets its
folder's marker automatically, so `pytest -m unit` selects a tier.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("unit", "integration", "e2e", "k8s", "llm")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def test_data_dir() -> Iterator[Path]:
    """A fresh PREFLIGHT_DATA_DIR for the run (short path: the server's unix socket lives in it)."""
    path = Path(tempfile.mkdtemp(prefix="pft-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url(test_data_dir: Path) -> Iterator[str]:
    """The embedded server for this test run, as an asyncpg URL to its `postgres` database."""
    from db.embedded import ensure_running, stop

    url = ensure_running(test_data_dir / "pg")
    yield url
    stop(test_data_dir / "pg")


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return base + ("?" + query if query else "")


async def _admin_exec(admin_url: str, *statements: str) -> None:
    from db.session import make_engine

    engine = make_engine(admin_url)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for s in statements:
            from sqlalchemy import text

            await conn.execute(text(s))
    await engine.dispose()


@pytest.fixture(scope="session")
def template_db_url(pg_admin_url: str) -> str:
    """A database migrated to head and seeded with the bundled files; others are cloned from it."""
    from db.migrate import prepare_database
    from db.session import make_engine

    name = "pf_template"

    async def build() -> None:
        await _admin_exec(pg_admin_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
        engine = make_engine(_with_db(pg_admin_url, name))
        await prepare_database(engine, seed=True)
        await engine.dispose()

    asyncio.run(build())
    return _with_db(pg_admin_url, name)


def clone_database(admin_url: str, template: str = "pf_template") -> str:
    name = f"pf_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_exec(admin_url, f"CREATE DATABASE {name} TEMPLATE {template}"))
    return _with_db(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = url.split("?")[0].rsplit("/", 1)[1]
    asyncio.run(_admin_exec(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def fresh_db_url(pg_admin_url: str, template_db_url: str) -> Iterator[str]:
    """A private seeded database for one test (for subprocesses and tests that commit)."""
    url = clone_database(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture(scope="module")
def module_db_url(pg_admin_url: str, template_db_url: str) -> Iterator[str]:
    """A private seeded database shared by one test module (e.g. a server started once per module)."""
    url = clone_database(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A private database with no schema at all (for migration tests)."""
    name = f"pf_empty_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin_exec(pg_admin_url, f"CREATE DATABASE {name}"))
    url = _with_db(pg_admin_url, name)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def shared_db_url(pg_admin_url: str, template_db_url: str) -> Iterator[str]:
    """One seeded database for the run; tests on it are isolated by the `session` fixture's rollback."""
    url = clone_database(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def use_db(shared_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point Preflight's settings at the shared test database (for code that calls get_engine())."""
    from app.config import get_settings

    monkeypatch.setenv("PREFLIGHT_DATABASE_URL", shared_db_url)
    get_settings.cache_clear()
    yield shared_db_url
    get_settings.cache_clear()


@pytest.fixture
async def session(shared_db_url: str) -> AsyncIterator[object]:
    """An AsyncSession whose commits land in a savepoint of an outer transaction that is rolled back."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from db.session import make_engine

    engine = make_engine(shared_db_url)
    async with engine.connect() as conn:
        outer = await conn.begin()
        s = AsyncSession(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        try:
            yield s
        finally:
            await s.close()
            await outer.rollback()
    await engine.dispose()


@pytest.fixture
def cli_env(fresh_db_url: str) -> dict[str, str]:
    """Environment for running `preflight` in a subprocess against a private seeded database."""
    env = dict(os.environ)
    env["PREFLIGHT_DATABASE_URL"] = fresh_db_url
    return env
