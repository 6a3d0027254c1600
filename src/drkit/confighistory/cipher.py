"""How versions are kept in the catalog: compressed, then encrypted with a local key.

Configuration files hold passwords and tokens, and the catalog may live on a
shared PostgreSQL server, so the catalog never holds a version in the clear.
The key is 32 random bytes in ``$DRKIT_HOME/confighistory.key`` (mode 0600),
created on first use; every row names the key it was sealed with (a short
key id), so a missing or different key is reported as such rather than as
damage. A copy of the history in a backup repository does not need this key:
the repository encrypts it with its own.

Sealed form: ``0x01 || nonce (12) || AES-256-GCM(zstd(content))``, the
version's uid as associated data (a row's content cannot be moved to
another row unnoticed).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from drkit.confighistory.errors import HistoryKeyMismatch, HistoryKeyMissing

KEY_FILE_NAME = "confighistory.key"
_FORMAT = b"\x01"
_NONCE = 12
_ZSTD_LEVEL = 10  # configuration files are small: compress well, it costs nothing


class ContentCipher:
    """Seals and opens version contents with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the configuration history key must be 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"drkit-confighistory-key\x00" + key).hexdigest()[:16]

    def seal(self, content: bytes, uid: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        packed = zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(content)
        return _FORMAT + nonce + self._aead.encrypt(nonce, packed, uid.encode())

    def open(self, sealed: bytes, uid: str, key_id: str) -> bytes:
        if key_id != self.key_id:
            raise HistoryKeyMismatch(
                f"version {uid[:8]} was encrypted with key {key_id}, "
                f"but {KEY_FILE_NAME} holds key {self.key_id}",
                hint=f"put the original {KEY_FILE_NAME} back into drkit's home, or rebuild "
                "the history from a backup repository: "
                "`drkit config restore --from-repository REPO --at now`",
            )
        if sealed[:1] != _FORMAT:
            raise HistoryKeyMismatch(f"version {uid[:8]} is stored in an unknown format")
        nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
        try:
            packed = self._aead.decrypt(nonce, body, uid.encode())
        except InvalidTag:
            raise HistoryKeyMismatch(
                f"version {uid[:8]} does not decrypt: the catalog row is damaged",
                hint="restore the history from a backup repository with "
                "`drkit config restore --from-repository REPO`",
            ) from None
        return zstandard.ZstdDecompressor().decompress(packed, max_output_size=1 << 31)


def key_path(home: Path) -> Path:
    return home / KEY_FILE_NAME


def load_key(home: Path) -> ContentCipher | None:
    """The cipher of the key file in ``home``, or None when there is no key file."""
    path = key_path(home)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HistoryKeyMissing(
            f"cannot read {path}: {exc.strerror}",
            hint="drkit needs to read its configuration history key; check the permissions",
        ) from exc
    try:
        return ContentCipher(bytes.fromhex(text))
    except ValueError:
        raise HistoryKeyMissing(
            f"{path} does not hold a configuration history key (64 hex digits)",
            hint="put the original key file back; a damaged key cannot open the versions",
        ) from None


def create_key(home: Path) -> ContentCipher:
    """Create the key file (0600) unless another process just did; return the key in it."""
    home.mkdir(parents=True, exist_ok=True)
    final = key_path(home)
    temp = home / f".{KEY_FILE_NAME}.{secrets.token_hex(6)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_bytes(32).hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temp, final)  # never replaces a key another process created first
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)
    cipher = load_key(home)
    assert cipher is not None
    return cipher


def missing_key_error(home: Path, key_ids: list[str]) -> HistoryKeyMissing:
    return HistoryKeyMissing(
        f"the configuration history key {key_path(home)} is missing, but the catalog holds "
        f"versions encrypted with key {', '.join(key_ids)}",
        hint=f"put the original {KEY_FILE_NAME} back into drkit's home (a copy is in your "
        "backups of it), or rebuild the history from a backup repository: "
        "`drkit config restore --from-repository REPO --at now`",
    )
