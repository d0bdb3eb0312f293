"""Scraped metric samples of deployments (app/observe), with an index for windowed reads.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_samples",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.UUID(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False, comment="The scraped URL, or prometheus:<selector>"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_metric_samples_at"), "metric_samples", ["at"], unique=False)
    op.create_index(
        "ix_metric_samples_deployment_at", "metric_samples", ["deployment_id", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_metric_samples_deployment_at", table_name="metric_samples")
    op.drop_index(op.f("ix_metric_samples_at"), table_name="metric_samples")
    op.drop_table("metric_samples")
