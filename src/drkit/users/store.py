"""Users in the catalog: every function works inside the caller's transaction.

The caller records the new version of drkit's configuration in the same
transaction (see :mod:`drkit.confighistory.service`), so a user change and
its version are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from drkit.catalog.types import utcnow
from drkit.users.errors import UserExists, UserNotFound
from drkit.users.model import (
    Grant,
    Permission,
    Role,
    User,
    UserRecord,
    check_user_name,
)
from drkit.users.passwords import verify_password
from drkit.users.tables import ApiTokenRow, UserGrantRow, UserRow, WebSessionRow


def add_user(s: Session, name: str, password_hash: str, grants: Iterable[Grant]) -> User:
    check_user_name(name)
    if s.get(UserRow, name) is not None:
        raise UserExists(f"there is already a user {name!r}")
    now = utcnow()
    s.add(UserRow(name=name, password_hash=password_hash, created_at=now, updated_at=now))
    s.flush()
    for grant in sorted(set(grants)):
        s.add(UserGrantRow(user_name=name, grant=grant.value))
    s.flush()
    return get_user(s, name)


def remove_user(s: Session, name: str) -> None:
    row = _row(s, name)
    _drop_dependants(s, [name])
    s.delete(row)
    s.flush()


def set_password(s: Session, name: str, password_hash: str) -> None:
    row = _row(s, name)
    row.password_hash, row.updated_at = password_hash, utcnow()
    s.flush()


def grant(s: Session, name: str, grants: Iterable[Grant]) -> list[Grant]:
    """Add grants; return those the user did not have yet."""
    row = _row(s, name)
    have = _grant_names(s, name)
    added = [g for g in sorted(set(grants)) if g.value not in have]
    for g in added:
        s.add(UserGrantRow(user_name=name, grant=g.value))
    if added:
        row.updated_at = utcnow()
    s.flush()
    return added


def revoke(s: Session, name: str, grants: Iterable[Grant]) -> list[Grant]:
    """Remove grants; return those the user had."""
    row = _row(s, name)
    have = _grant_names(s, name)
    removed = [g for g in sorted(set(grants)) if g.value in have]
    if removed:
        s.execute(
            delete(UserGrantRow).where(
                UserGrantRow.user_name == name,
                UserGrantRow.grant.in_([g.value for g in removed]),
            )
        )
        row.updated_at = utcnow()
    s.flush()
    return removed


def get_user(s: Session, name: str) -> User:
    return _user(_row(s, name), _grant_names(s, name))


def list_users(s: Session) -> list[User]:
    grants: dict[str, set[str]] = {}
    for g in s.scalars(select(UserGrantRow)):
        grants.setdefault(g.user_name, set()).add(g.grant)
    rows = s.scalars(select(UserRow).order_by(UserRow.name))
    return [_user(row, grants.get(row.name, set())) for row in rows]


def authenticate(s: Session, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None (for the API's logins)."""
    row = s.get(UserRow, name)
    if row is None or not verify_password(row.password_hash, password):
        return None
    return _user(row, _grant_names(s, name))


def records(s: Session) -> tuple[UserRecord, ...]:
    """Every user as a version keeps it, sorted by name."""
    users = list_users(s)
    hashes = {row.name: row.password_hash for row in s.scalars(select(UserRow))}
    return tuple(
        UserRecord(
            u.name,
            hashes[u.name],
            tuple(sorted([*(r.value for r in u.roles), *(p.value for p in u.permissions)])),
        )
        for u in users
    )


def replace_all(s: Session, wanted: Iterable[UserRecord]) -> None:
    """Make the users exactly ``wanted`` (a restore): same names, hashes and grants."""
    wanted = list(wanted)
    current = {row.name: row for row in s.scalars(select(UserRow))}
    s.execute(delete(UserGrantRow))
    now = utcnow()
    gone = sorted(set(current) - {u.name for u in wanted})
    _drop_dependants(s, gone)
    for name in gone:
        s.delete(current[name])
    s.flush()
    for user in wanted:
        row = current.get(user.name)
        if row is None:
            s.add(
                UserRow(
                    name=user.name, password_hash=user.password_hash, created_at=now, updated_at=now
                )
            )
        elif row.password_hash != user.password_hash:
            row.password_hash, row.updated_at = user.password_hash, now
    s.flush()
    for user in wanted:
        for g in sorted(set(user.grants)):
            s.add(UserGrantRow(user_name=user.name, grant=g))
    s.flush()


def _drop_dependants(s: Session, names: list[str]) -> None:
    """Grants, tokens and sign-ins of users about to go (SQLite may not cascade)."""
    for table in (UserGrantRow, ApiTokenRow, WebSessionRow):
        s.execute(delete(table).where(table.user_name.in_(names)))


def _row(s: Session, name: str) -> UserRow:
    row = s.get(UserRow, name)
    if row is None:
        raise UserNotFound(f"there is no user {name!r}")
    return row


def _grant_names(s: Session, name: str) -> set[str]:
    return set(s.scalars(select(UserGrantRow.grant).where(UserGrantRow.user_name == name)))


def _user(row: UserRow, grants: set[str]) -> User:
    roles = tuple(sorted(Role(g) for g in grants if g in Role.__members__.values()))
    perms = tuple(sorted(Permission(g) for g in grants if g in Permission.__members__.values()))
    return User(row.name, roles, perms, row.created_at, row.updated_at)
