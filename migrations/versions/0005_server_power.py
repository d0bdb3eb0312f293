"""Whole-server power on purchase price rows (servers are bought whole, with their host).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "prices",
        sa.Column(
            "server_power_w",
            sa.Float(),
            nullable=True,
            comment="Whole-server power, W (purchase rows of a multi-GPU server)",
        ),
    )


def downgrade() -> None:
    op.drop_column("prices", "server_power_w")
