"""alerts: silences (not notified until a time, with who and why)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drkit.catalog.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("silenced_until", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("silenced_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("silence_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("silence_reason")
        batch_op.drop_column("silenced_by")
        batch_op.drop_column("silenced_until")
