"""Migrations upgrade an empty database to head and downgrade it back to empty."""

from __future__ import annotations

from sqlalchemy import text

from db.migrate import current_revision, downgrade, upgrade
from db.models import Base
from db.session import make_engine


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        return {r[0] for r in rows}


async def test_upgrade_from_empty_then_downgrade_to_empty(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert await _tables(engine) == set()
        await upgrade(engine)
        assert await current_revision(engine) is not None
        tables = await _tables(engine)
        assert set(Base.metadata.tables) <= tables
        async with engine.connect() as conn:
            ext = (
                await conn.execute(text("SELECT extversion FROM pg_extension WHERE extname='vector'"))
            ).scalar()
            assert ext is not None, "the first revision must create the vector extension"
            hnsw = (
                await conn.execute(
                    text("SELECT count(*) FROM pg_indexes WHERE indexdef ILIKE '%USING hnsw%'")
                )
            ).scalar_one()
            assert hnsw >= 3

        await downgrade(engine, "base")
        assert await _tables(engine) <= {"alembic_version"}
        assert await current_revision(engine) is None
        async with engine.connect() as conn:
            ext = (await conn.execute(text("SELECT 1 FROM pg_extension WHERE extname='vector'"))).scalar()
            assert ext is None
    finally:
        await engine.dispose()


async def test_schema_matches_models_after_upgrade(empty_db_url: str) -> None:
    """Autogenerate finds nothing to change: the migration chain and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(empty_db_url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()
