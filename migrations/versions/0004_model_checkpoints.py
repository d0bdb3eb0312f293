"""Published checkpoints per model and precision (the repo vLLM loads, with its publisher).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "models",
        sa.Column(
            "checkpoints",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),  # existing rows: no published checkpoint recorded yet
            comment="Published repos per precision vLLM loads, with publisher",
        ),
    )


def downgrade() -> None:
    op.drop_column("models", "checkpoints")
