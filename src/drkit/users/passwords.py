"""Password hashing: argon2id (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from drkit.errors import UsageError

MIN_LENGTH = 8
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise UsageError(
            f"the password is too short ({len(password)} characters)",
            hint=f"use at least {MIN_LENGTH} characters; a passphrase of a few words is best",
        )
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
