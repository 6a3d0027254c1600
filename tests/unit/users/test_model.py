"""Roles, permissions and user names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drkit.errors import UsageError
from drkit.users.errors import UnknownGrant
from drkit.users.model import Permission, Role, User, check_user_name, parse_grant
from drkit.users.passwords import hash_password, verify_password

T = datetime(2024, 1, 1, tzinfo=UTC)


def test_roles_and_single_permissions_add_up() -> None:
    viewer = User("v", (Role.VIEWER,), (), T, T)
    operator = User("o", (Role.OPERATOR,), (Permission.FAILOVER,), T, T)
    admin = User("a", (Role.ADMIN,), (), T, T)
    assert viewer.effective == {Permission.VIEW}
    assert operator.can(Permission.FAILOVER) and operator.can(Permission.RESTORE)
    assert not operator.can(Permission.MANAGE_USERS) and not viewer.can(Permission.BACKUP)
    assert admin.effective == frozenset(Permission)


def test_grants_by_name() -> None:
    assert parse_grant("Operator") is Role.OPERATOR
    assert parse_grant("manage-users") is Permission.MANAGE_USERS
    with pytest.raises(UnknownGrant) as caught:
        parse_grant("root")
    assert "viewer" in caught.value.hint and "failover" in caught.value.hint


@pytest.mark.parametrize("name", ["alice", "ops.bot", "a_b-c@example.org", "_svc"])
def test_valid_names(name: str) -> None:
    assert check_user_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "has space", "x" * 101, "semi;colon"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(UsageError):
        check_user_name(name)


def test_passwords_are_argon2id_hashes() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert verify_password(hashed, "correct horse") and not verify_password(hashed, "wrong one")
    assert not verify_password("garbage", "x")
    with pytest.raises(UsageError, match="too short"):
        hash_password("short")
