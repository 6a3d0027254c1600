"""runbook versions and operator requests (approvals, cancels)

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drkit.catalog.types import UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = ("runbooks",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runbook_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runbook_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runbook_versions_name"), ["name"], unique=False)

    op.create_table(
        "runbook_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("runbook_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runbook_requests_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runbook_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbook_requests_run_id"))
    op.drop_table("runbook_requests")
    with op.batch_alter_table("runbook_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbook_versions_name"))
    op.drop_table("runbook_versions")
