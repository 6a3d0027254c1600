"""runs: an index on job (the latest run of each job, read at every status)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_job", "runs", ["job"])


def downgrade() -> None:
    op.drop_index("ix_runs_job", table_name="runs")
