"""The configuration history's catalog tables (migration 0002, branch ``confighistory``).

``config_versions`` keeps every version, its content compressed and
encrypted with the key in ``$DRKIT_HOME/confighistory.key``;
``config_heads`` names the newest content hash of each scope, so "store a
version only when it changed" is one atomic compare-and-set even when two
processes see the same change at once.
The ``users`` and ``user_grants`` tables of the same migration belong to
:mod:`drkit.users.tables`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from drkit.catalog.tables import Base
from drkit.catalog.types import UTCDateTime


class ConfigVersionRow(Base):
    __tablename__ = "config_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    scope: Mapped[str] = mapped_column(String(1000))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[int | None] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(32))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_config_versions_scope_created", "scope", "created_at"),
        Index("ix_config_versions_created_at", "created_at"),
    )


class ConfigHeadRow(Base):
    __tablename__ = "config_heads"

    scope: Mapped[str] = mapped_column(String(1000), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int | None] = mapped_column(Integer)
