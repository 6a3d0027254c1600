"""job slot claims: which serve started each scheduled slot (control plane in two sites)

Revision ID: 0009
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drkit.catalog.types import UTCDateTime

revision = "0009"
down_revision = "0001"
branch_labels = ("slot_claims",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_slot_claims",
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("slot", UTCDateTime(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job", "slot", "attempt"),
    )


def downgrade() -> None:
    op.drop_table("job_slot_claims")
