"""wal_proved: archived WAL objects proved intact (the recovery point of physical sources)

Revision ID: 0010
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drkit.catalog.types import UTCDateTime

revision = "0010"
down_revision = "0001"
branch_labels = ("wal_proved",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wal_proved",
        sa.Column("repository_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_xact_ns", sa.BigInteger(), nullable=False),
        sa.Column("proved_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("repository_id", "name"),
    )


def downgrade() -> None:
    op.drop_table("wal_proved")
