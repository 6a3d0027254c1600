"""configuration history: versions, heads, users and their grants

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drkit.catalog.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = ("confighistory",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("config_versions", schema=None) as batch_op:
        batch_op.create_index("ix_config_versions_scope_created", ["scope", "created_at"])
        batch_op.create_index("ix_config_versions_created_at", ["created_at"])

    op.create_table(
        "config_heads",
        sa.Column("scope", sa.String(length=1000), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.create_table(
        "users",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "user_grants",
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("grant", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_name", "grant"),
    )


def downgrade() -> None:
    op.drop_table("user_grants")
    op.drop_table("users")
    op.drop_table("config_heads")
    with op.batch_alter_table("config_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_config_versions_created_at")
        batch_op.drop_index("ix_config_versions_scope_created")
    op.drop_table("config_versions")
