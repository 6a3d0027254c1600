"""Errors of users, tokens and sign-ins (exit code 50, as under the configuration history).

UsersError                 exit 50  users
├── UserNotFound           exit 50  user-not-found
├── UserExists             exit 50  user-exists
├── UnknownGrant           exit 50  unknown-grant
├── TokenNotFound          exit 50  token-not-found
├── TokenTooWide           exit 50  token-too-wide (more than the user may do)
├── NotAuthenticated       exit 50  not-authenticated (no, a wrong, expired or revoked token)
└── NotPermitted           exit 50  not-permitted (authenticated, without the permission)
"""

from __future__ import annotations

from drkit.errors import DrkitError


class UsersError(DrkitError):
    code = "users"
    exit_code = 50


class UserNotFound(UsersError):
    code = "user-not-found"
    default_hint = "`drkit user list` shows the users"


class UserExists(UsersError):
    code = "user-exists"
    default_hint = "choose another name, or change that user with `drkit user grant`"


class UnknownGrant(UsersError):
    code = "unknown-grant"


class TokenNotFound(UsersError):
    code = "token-not-found"
    default_hint = "`drkit user token list` shows the tokens and their ids"


class TokenTooWide(UsersError):
    code = "token-too-wide"
    default_hint = "a token may carry only permissions its user has (`drkit user list`)"


class NotAuthenticated(UsersError):
    code = "not-authenticated"
    default_hint = (
        "send 'Authorization: Bearer TOKEN' with a token from `drkit user token add NAME`"
    )


class NotPermitted(UsersError):
    code = "not-permitted"
    default_hint = "ask an admin to grant it (`drkit user grant NAME PERMISSION`)"
