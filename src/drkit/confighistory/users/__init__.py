"""drkit's user accounts: names, argon2 password hashes, roles and permissions.

They live in the catalog and are part of every version of drkit's own
configuration, so restoring drkit's configuration to a past time brings
back that time's users and what each was allowed to do.
"""

from drkit.confighistory.users.model import (
    ROLE_PERMISSIONS,
    Grant,
    Permission,
    Role,
    User,
    UserRecord,
    parse_grant,
)

__all__ = [
    "ROLE_PERMISSIONS",
    "Grant",
    "Permission",
    "Role",
    "User",
    "UserRecord",
    "parse_grant",
]
