"""drkit's users: accounts, roles and permissions, API tokens, the audit log.

Accounts (names, argon2id password hashes, roles and single permissions)
live in the catalog and are part of every version of drkit's own
configuration, so restoring drkit's configuration to a past time brings back
that time's users and what each was allowed to do. API tokens
(:mod:`drkit.users.tokens`) carry a subset of their user's permissions;
:mod:`drkit.users.audit` records who did what, from where, with what outcome.
Every face (CLI, REST API, dashboard) and the configuration history use it.
"""

from drkit.users.model import (
    ROLE_PERMISSIONS,
    Grant,
    Permission,
    Role,
    User,
    UserRecord,
    parse_grant,
    parse_permission,
)

__all__ = [
    "ROLE_PERMISSIONS",
    "Grant",
    "Permission",
    "Role",
    "User",
    "UserRecord",
    "parse_grant",
    "parse_permission",
]
