"""Dashboard sign-ins: a session per login, kept server-side, ended by logout or expiry.

The cookie holds a random 32-byte id; the catalog keeps only its SHA-256, the
user, the session's CSRF token and its expiry. Every function works inside
the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from drkit.users.tables import WebSessionRow

LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class WebSession:
    user: str
    csrf: str
    expires_at: datetime


def start_session(s: Session, user: str, now: datetime) -> tuple[str, WebSession]:
    """A new session for ``user``: the cookie value (shown to the browser only) and the session."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = WebSessionRow(
        id_hash=_hash(cookie), user_name=user, csrf=csrf, created_at=now, expires_at=now + LIFETIME
    )
    s.add(row)
    s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))  # housekeeping
    s.flush()
    return cookie, WebSession(user, csrf, row.expires_at)


def find_session(s: Session, cookie: str, now: datetime) -> WebSession | None:
    row = s.get(WebSessionRow, _hash(cookie))
    if row is None or row.expires_at <= now:
        return None
    return WebSession(row.user_name, row.csrf, row.expires_at)


def end_session(s: Session, cookie: str) -> None:
    s.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == _hash(cookie)))


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()
