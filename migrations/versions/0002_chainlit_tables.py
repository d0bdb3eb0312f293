"""Chainlit's chat history tables, in their own schema ``chainlit``.

Chainlit's SQLAlchemy data layer (chainlit/data/sql_alchemy.py) writes raw SQL against unqualified tables
named users, threads, steps, elements and feedbacks, with camelCase column names. ``users`` would collide
with Preflight's own table, so these live in schema ``chainlit`` and the chat's data-layer engine sets
``search_path`` to it. They are not SQLAlchemy models (Chainlit owns their shape), so autogenerate neither
sees nor compares them; this revision is written by hand.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "chainlit"


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(
        f"""
        CREATE TABLE {SCHEMA}.users (
            "id" UUID PRIMARY KEY,
            "identifier" TEXT NOT NULL UNIQUE,
            "metadata" JSONB NOT NULL,
            "createdAt" TEXT
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {SCHEMA}.threads (
            "id" UUID PRIMARY KEY,
            "createdAt" TEXT,
            "name" TEXT,
            "userId" UUID REFERENCES {SCHEMA}.users("id") ON DELETE CASCADE,
            "userIdentifier" TEXT,
            "tags" TEXT[],
            "metadata" JSONB
        )"""
    )
    op.execute(f'CREATE INDEX ix_chainlit_threads_user ON {SCHEMA}.threads ("userId")')
    op.execute(
        f"""
        CREATE TABLE {SCHEMA}.steps (
            "id" UUID PRIMARY KEY,
            "name" TEXT NOT NULL,
            "type" TEXT NOT NULL,
            "threadId" UUID NOT NULL REFERENCES {SCHEMA}.threads("id") ON DELETE CASCADE,
            "parentId" UUID,
            "streaming" BOOLEAN NOT NULL,
            "waitForAnswer" BOOLEAN,
            "isError" BOOLEAN,
            "metadata" JSONB,
            "tags" TEXT[],
            "input" TEXT,
            "output" TEXT,
            "createdAt" TEXT,
            "command" TEXT,
            "start" TEXT,
            "end" TEXT,
            "generation" JSONB,
            "showInput" TEXT,
            "language" TEXT,
            "indent" INT,
            "defaultOpen" BOOLEAN,
            "autoCollapse" BOOLEAN
        )"""
    )
    op.execute(f'CREATE INDEX ix_chainlit_steps_thread ON {SCHEMA}.steps ("threadId")')
    op.execute(
        f"""
        CREATE TABLE {SCHEMA}.elements (
            "id" UUID PRIMARY KEY,
            "threadId" UUID REFERENCES {SCHEMA}.threads("id") ON DELETE CASCADE,
            "type" TEXT,
            "url" TEXT,
            "chainlitKey" TEXT,
            "name" TEXT NOT NULL,
            "display" TEXT,
            "objectKey" TEXT,
            "size" TEXT,
            "page" INT,
            "language" TEXT,
            "forId" UUID,
            "mime" TEXT,
            "props" JSONB,
            "autoPlay" BOOLEAN,
            "playerConfig" JSONB
        )"""
    )
    op.execute(
        f"""
        CREATE TABLE {SCHEMA}.feedbacks (
            "id" UUID PRIMARY KEY,
            "forId" UUID NOT NULL,
            "threadId" UUID REFERENCES {SCHEMA}.threads("id") ON DELETE CASCADE,
            "value" INT NOT NULL,
            "comment" TEXT
        )"""
    )


def downgrade() -> None:
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
