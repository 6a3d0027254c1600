"""Tokens: expiry, revocation, narrowing to the user's current permissions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drkit.catalog import Catalog
from drkit.errors import UsageError
from drkit.users import Permission, Role, store
from drkit.users.tokens import authenticate_token, issue_token, parse_expiry, revoke_token

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    with opened.session() as s:
        store.add_user(s, "alice", "x", [Role.OPERATOR])
    yield opened
    opened.close()


def test_an_expired_token_is_refused(catalog: Catalog) -> None:
    with catalog.session() as s:
        issued = issue_token(s, "alice", "", None, NOW + timedelta(hours=1), NOW)
        assert authenticate_token(s, issued.secret, NOW + timedelta(minutes=59)) is not None
        assert authenticate_token(s, issued.secret, NOW + timedelta(hours=1)) is None


def test_a_revoked_or_altered_token_is_refused(catalog: Catalog) -> None:
    with catalog.session() as s:
        issued = issue_token(s, "alice", "", None, None, NOW)
        altered = issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B")
        assert authenticate_token(s, altered, NOW) is None
        assert authenticate_token(s, "drkit_nonsense", NOW) is None
        revoke_token(s, issued.token.id, NOW)
        assert authenticate_token(s, issued.secret, NOW) is None


def test_a_token_narrows_when_its_user_loses_a_role(catalog: Catalog) -> None:
    with catalog.session() as s:
        narrow = issue_token(s, "alice", "", [Permission.VIEW, Permission.BACKUP], None, NOW)
        full = issue_token(s, "alice", "", None, None, NOW)
        holder = authenticate_token(s, narrow.secret, NOW)
        assert holder is not None and holder.permissions == {Permission.VIEW, Permission.BACKUP}
        store.revoke(s, "alice", [Role.OPERATOR])
        store.grant(s, "alice", [Role.VIEWER])
        for secret in (narrow.secret, full.secret):
            holder = authenticate_token(s, secret, NOW)
            assert holder is not None and holder.permissions == {Permission.VIEW}


def test_removing_a_user_removes_their_tokens(catalog: Catalog) -> None:
    with catalog.session() as s:
        issued = issue_token(s, "alice", "", None, None, NOW)
        store.remove_user(s, "alice")
        assert authenticate_token(s, issued.secret, NOW) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", NOW + timedelta(minutes=90)),
        ("12h", NOW + timedelta(hours=12)),
        ("30d", NOW + timedelta(days=30)),
        ("2w", NOW + timedelta(weeks=2)),
        ("2027-01-31", datetime(2027, 1, 31, tzinfo=UTC)),
    ],
)
def test_expiries(text: str, expected: datetime) -> None:
    assert parse_expiry(text, NOW) == expected


@pytest.mark.parametrize("text", ["soon", "2020-01-01", "-3d"])
def test_bad_expiries_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_expiry(text, NOW)
