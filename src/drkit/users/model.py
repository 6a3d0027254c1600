"""Users, roles and permissions as values.

A user holds roles (``viewer``, ``operator``, ``admin``), each a fixed set
of permissions, and may be granted single permissions besides. The names
of roles and permissions never overlap, so ``drkit user grant alice
operator failover`` needs no further syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from drkit.errors import UsageError
from drkit.users.errors import UnknownGrant

USER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,99}")


class Permission(StrEnum):
    VIEW = "view"  # status, runs, alerts, configuration history
    BACKUP = "backup"  # run backups, copies and checks
    RESTORE = "restore"  # restore data from repositories
    RUNBOOKS = "runbooks"  # run runbooks and drills
    APPROVE = "approve"  # approve or reject runbook steps that wait for an operator
    ALERTS = "alerts"  # acknowledge and silence alerts
    FAILOVER = "failover"  # fail over, switch over, override split-brain decisions
    CONFIGURE = "configure"  # change and restore drkit's configuration
    MANAGE_USERS = "manage-users"  # add and remove users, grant and revoke


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.VIEW}),
    Role.OPERATOR: frozenset(
        {
            Permission.VIEW,
            Permission.BACKUP,
            Permission.RESTORE,
            Permission.RUNBOOKS,
            Permission.APPROVE,
            Permission.ALERTS,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}

Grant = Role | Permission


def parse_permission(text: str) -> Permission:
    """A permission by name (a token's), UnknownGrant listing them otherwise."""
    name = text.strip().lower()
    if name in Permission.__members__.values():
        return Permission(name)
    raise UnknownGrant(
        f"{text!r} is not a permission", hint=f"permissions: {', '.join(Permission)}"
    )


def parse_grant(text: str) -> Grant:
    """A role or a permission by name; UnknownGrant listing the names otherwise."""
    name = text.strip().lower()
    if name in Role.__members__.values():
        return Role(name)
    if name in Permission.__members__.values():
        return Permission(name)
    raise UnknownGrant(
        f"{text!r} is neither a role nor a permission",
        hint=f"roles: {', '.join(Role)}; permissions: {', '.join(Permission)}",
    )


def check_user_name(name: str) -> str:
    if USER_NAME.fullmatch(name) is None:
        raise UsageError(
            f"invalid user name {name!r}",
            hint="use letters, digits, '_', '.', '@' and '-' (at most 100), "
            "starting with a letter, digit or '_'",
        )
    return name


@dataclass(frozen=True)
class User:
    name: str
    roles: tuple[Role, ...]
    permissions: tuple[Permission, ...]  # granted one by one, besides the roles'
    created_at: datetime
    updated_at: datetime

    @property
    def effective(self) -> frozenset[Permission]:
        """Every permission the user has, from roles and single grants."""
        found = set(self.permissions)
        for role in self.roles:
            found |= ROLE_PERMISSIONS[role]
        return frozenset(found)

    def can(self, permission: Permission) -> bool:
        return permission in self.effective

    def to_json(self) -> dict[str, Any]:
        """The shape of `drkit user list --json` and of the API."""
        return {
            "name": self.name,
            "roles": [r.value for r in self.roles],
            "permissions": [p.value for p in self.permissions],
            "effective": sorted(p.value for p in self.effective),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class UserRecord:
    """A user as versions keep it: what restoring needs, nothing that changes by itself."""

    name: str
    password_hash: str
    grants: tuple[str, ...]  # sorted role and permission names
