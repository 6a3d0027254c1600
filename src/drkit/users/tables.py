"""The users' catalog tables.

``users`` and ``user_grants`` (migration 0002) are drkit's accounts (argon2id
password hashes only) and their roles and permissions; they are part of every
version of drkit's own configuration. ``api_tokens``, ``audit_log`` and
``web_sessions`` (migration 0006) are bearer tokens (SHA-256 of the secret
only), the record of every change and action, and the dashboard's sign-ins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from drkit.catalog.tables import Base
from drkit.catalog.types import UTCDateTime


class UserRow(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserGrantRow(Base):
    __tablename__ = "user_grants"

    user_name: Mapped[str] = mapped_column(
        ForeignKey("users.name", ondelete="CASCADE"), primary_key=True
    )
    grant: Mapped[str] = mapped_column(String(50), primary_key=True)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public part of the token
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the secret part
    permissions: Mapped[str | None] = mapped_column(Text)  # comma list; None: the user's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_api_tokens_user_name", "user_name"),)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))  # a user name, or the OS user on the CLI
    via: Mapped[str] = mapped_column(String(50))  # cli, token:ID, session
    origin: Mapped[str] = mapped_column(String(200))  # client address, or the host for the CLI
    action: Mapped[str] = mapped_column(String(100))  # user.add, alert.acknowledge, ...
    target: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(20))  # ok, denied, failed
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_audit_log_at", "at"),)


class WebSessionRow(Base):
    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
