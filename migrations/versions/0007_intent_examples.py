"""Labelled example sentences for the categorical intent fields (k-NN classifier).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intent_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True, comment="Who wrote or labelled it"),
        sa.Column("embedding", Vector(384), nullable=True),
        sa.Column("seed_source", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("field", "text", name="uq_intent_examples_field_text"),
    )
    op.create_index(op.f("ix_intent_examples_field"), "intent_examples", ["field"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_intent_examples_field"), table_name="intent_examples")
    op.drop_table("intent_examples")
