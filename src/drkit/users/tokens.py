"""API tokens: a user's bearer secrets, stored as hashes, shown once.

A token reads ``drkit_<id>_<secret>``: the id is public (it names the token in
``drkit user token list`` and the audit log), the 32-byte secret is kept only
as its SHA-256 (a random secret needs no slow hash: nothing to guess from it).
A token carries a set of permissions no wider than its user's at creation,
or none named (the user's, whatever they become). What a token may do is
always the intersection with what its user may do *now*, so taking a role
from a user narrows their tokens at once. Every function works inside the
caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from drkit.errors import UsageError
from drkit.users.errors import TokenNotFound, TokenTooWide
from drkit.users.model import Permission
from drkit.users.store import get_user
from drkit.users.tables import ApiTokenRow

PREFIX = "drkit_"
_TOKEN = re.compile(r"drkit_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
_DURATION = re.compile(r"(?P<n>\d+)\s*(?P<unit>m|min|h|d|w)")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Token:
    id: str
    user: str
    label: str
    permissions: tuple[Permission, ...] | None  # None: whatever the user may do
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The shape of `drkit user token list --json` and of the API (never the secret)."""
        return {
            "id": self.id,
            "user": self.user,
            "label": self.label,
            "permissions": None
            if self.permissions is None
            else [p.value for p in self.permissions],
            "created_at": self.created_at.isoformat(),
            "expires_at": _iso(self.expires_at),
            "revoked_at": _iso(self.revoked_at),
            "last_used_at": _iso(self.last_used_at),
            "state": self.state(now),
        }


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its secret, which is never shown again."""

    token: Token
    secret: str

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {**self.token.to_json(now), "token": self.secret}


@dataclass(frozen=True)
class TokenHolder:
    """Who a presented token speaks for, and what it lets them do now."""

    user: str
    token_id: str
    permissions: frozenset[Permission]


def parse_expiry(text: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``90m``, ``2w`` from now, or an ISO date or time (UTC without a zone)."""
    cleaned = text.strip().lower()
    if found := _DURATION.fullmatch(cleaned):
        return now + timedelta(seconds=int(found["n"]) * _UNITS[found["unit"]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{text!r} is not an expiry drkit knows",
            hint="give a duration (90m, 12h, 30d, 2w) or an ISO date or time (2027-01-31)",
        ) from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when <= now:
        raise UsageError(f"the expiry {text!r} is in the past", hint="give a time to come")
    return when


def issue_token(
    s: Session,
    user: str,
    label: str,
    permissions: Iterable[Permission] | None,
    expires_at: datetime | None,
    now: datetime,
) -> IssuedToken:
    """A new token for ``user``; TokenTooWide if it would carry more than the user has."""
    have = get_user(s, user).effective
    wanted = None if permissions is None else tuple(sorted(set(permissions)))
    if wanted is not None and not set(wanted) <= have:
        extra = ", ".join(sorted(set(wanted) - have))
        raise TokenTooWide(f"user {user!r} may not {extra}, so no token of theirs may")
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = ApiTokenRow(
        id=token_id,
        user_name=user,
        label=label,
        secret_hash=_hash(secret),
        permissions=None if wanted is None else ",".join(wanted),
        created_at=now,
        expires_at=expires_at,
    )
    s.add(row)
    s.flush()
    return IssuedToken(_token(row), f"{PREFIX}{token_id}_{secret}")


def list_tokens(s: Session, user: str | None = None) -> list[Token]:
    query = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
    if user is not None:
        get_user(s, user)  # UserNotFound for a name that is not there
        query = query.where(ApiTokenRow.user_name == user)
    return [_token(row) for row in s.scalars(query)]


def revoke_token(s: Session, token_id: str, now: datetime, *, user: str | None = None) -> Token:
    """Revoke a token (idempotent); with ``user``, only one of theirs (else TokenNotFound)."""
    row = s.get(ApiTokenRow, token_id)
    if row is None or (user is not None and row.user_name != user):
        raise TokenNotFound(f"there is no token {token_id!r}")
    if row.revoked_at is None:
        row.revoked_at = now
        s.flush()
    return _token(row)


def find_token(s: Session, presented: str) -> Token | None:
    """The token whose id and secret ``presented`` holds, whatever its state (to say why
    a revoked or expired one is refused, and whose it is); None when it matches none."""
    found = _TOKEN.fullmatch(presented.strip())
    if found is None:
        return None
    row = s.get(ApiTokenRow, found["id"])
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(found["secret"])):
        return None
    return _token(row)


LAST_USED_RESOLUTION = timedelta(minutes=1)  # how exact a token's last use is recorded


def authenticate_token(s: Session, presented: str, now: datetime) -> TokenHolder | None:
    """The holder of a valid, unexpired, unrevoked token; None for anything else."""
    found = _TOKEN.fullmatch(presented.strip())
    if found is None:
        return None
    row = s.get(ApiTokenRow, found["id"])
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(found["secret"])):
        return None
    token = _token(row)
    if token.state(now) != "active":
        return None
    user_may = get_user(s, row.user_name).effective
    allowed = user_may if token.permissions is None else user_may & set(token.permissions)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now  # not at every request: a write each time costs the API
    return TokenHolder(row.user_name, row.id, frozenset(allowed))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token(row: ApiTokenRow) -> Token:
    perms = None if row.permissions is None else row.permissions.split(",")
    return Token(
        row.id,
        row.user_name,
        row.label,
        None if perms is None else tuple(Permission(p) for p in perms if p),
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
