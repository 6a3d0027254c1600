"""Keys and authenticated encryption.

A repository has one random master key. Every stored object is sealed with
AES-256-GCM under it, with a fresh 96-bit random nonce and associated data
that binds the ciphertext to its role (a blob to its id, a snapshot to its
name), so a ciphertext moved to another place fails to open. Blob ids are
BLAKE3 keyed with a second, independent 256-bit key, so ids reveal nothing
about content to someone without the key.

Sealed layout: ``nonce (12) || ciphertext || tag (16)``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import blake3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = NONCE_SIZE + TAG_SIZE
KEY_SIZE = 32


class DecryptError(Exception):
    """The ciphertext or its associated data was altered, or the key is wrong."""


@dataclass(frozen=True)
class MasterKey:
    """The secret material every key slot wraps."""

    encryption: bytes
    id_key: bytes

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(os.urandom(KEY_SIZE), os.urandom(KEY_SIZE))

    def to_bytes(self) -> bytes:
        return self.encryption + self.id_key

    @classmethod
    def from_bytes(cls, raw: bytes) -> MasterKey:
        if len(raw) != 2 * KEY_SIZE:
            raise DecryptError("master key has the wrong length")
        return cls(raw[:KEY_SIZE], raw[KEY_SIZE:])


class Sealer:
    """Seals and opens objects with one AES-256-GCM key; safe to share across threads."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes | memoryview, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes | memoryview, aad: bytes) -> bytes:
        if len(sealed) < OVERHEAD:
            raise DecryptError("object is shorter than its nonce and tag")
        view = memoryview(sealed)
        try:
            return self._aead.decrypt(view[:NONCE_SIZE], view[NONCE_SIZE:], aad)
        except InvalidTag:
            raise DecryptError("authentication failed") from None


class IdHasher:
    """Computes blob ids: BLAKE3 keyed with the repository's id key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, data: bytes | memoryview) -> bytes:
        return blake3.blake3(data, key=self._key).digest()


def content_hash(data: bytes | memoryview) -> str:
    """Unkeyed BLAKE3 hex digest: the name of packs, index and key files."""
    return blake3.blake3(data).hexdigest()
