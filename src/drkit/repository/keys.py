"""Key slots: the master key wrapped by passphrases.

Each ``keys/ID`` object is a small JSON document in the clear holding the KDF
parameters, a salt, and the master key sealed with a key derived from one
passphrase by Argon2id. Several slots wrap the same master key, so adding or
changing a passphrase never rewrites data. The slot's name is the BLAKE3 hash
of its bytes.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2.low_level import Type, hash_secret_raw

from drkit.errors import IntegrityError, RepositoryError, UsageError, WrongPassword
from drkit.repository.crypto import DecryptError, MasterKey, Sealer, content_hash
from drkit.storage.base import Backend, FileKind

KEY_AAD = b"drkit-key-slot-v1"
_EPOCH = datetime.fromtimestamp(0, UTC)
log = logging.getLogger("drkit.keys")


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: time (passes), memory (KiB), lanes.

    The default is above OWASP's Argon2id baseline (19 MiB, 2 passes) with
    twice the passes; memory stays small so drkit fits beside the services it
    protects. Parameters are stored in each slot, so stronger ones can be
    used for new slots without touching old ones.
    """

    time_cost: int = 4
    memory_kib: int = 19 * 1024
    parallelism: int = 2

    def derive(self, password: bytes, salt: bytes) -> bytes:
        return hash_secret_raw(
            password,
            salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=32,
            type=Type.ID,
        )


@dataclass(frozen=True)
class KeySlot:
    """One stored key slot (without its secret)."""

    id: str
    created: datetime
    hostname: str
    username: str
    kdf: KdfParams
    damaged: str = ""  # why the slot cannot be read; empty when it is intact


def default_kdf() -> KdfParams:
    """The KDF cost for new slots; DRKIT_KDF_MEMORY_KIB changes the memory (KiB)."""
    memory = int(os.environ.get("DRKIT_KDF_MEMORY_KIB", KdfParams.memory_kib))
    return KdfParams(memory_kib=max(memory, 8 * 1024))


def add_key_slot(
    backend: Backend, master: MasterKey, password: str, kdf: KdfParams | None = None
) -> str:
    """Wrap ``master`` with ``password`` in a new slot; return the slot id."""
    if not password:
        raise UsageError("the passphrase is empty", hint="choose a non-empty passphrase")
    kdf = kdf or default_kdf()
    salt = os.urandom(16)
    wrapped = Sealer(kdf.derive(password.encode(), salt)).seal(master.to_bytes(), KEY_AAD)
    doc = {
        "version": 1,
        "created": datetime.now(UTC).isoformat(),
        "hostname": socket.gethostname(),
        "username": getpass.getuser(),
        "kdf": {
            "name": "argon2id",
            "time_cost": kdf.time_cost,
            "memory_kib": kdf.memory_kib,
            "parallelism": kdf.parallelism,
        },
        "salt": base64.b64encode(salt).decode(),
        "data": base64.b64encode(wrapped).decode(),
    }
    raw = json.dumps(doc, indent=1).encode()
    slot_id = content_hash(raw)
    backend.save(FileKind.KEY, slot_id, [raw])
    return slot_id


@dataclass(frozen=True)
class _SlotDoc:
    """The JSON of one key slot, as stored."""

    created: datetime
    hostname: str
    username: str
    params: KdfParams
    salt: bytes
    data: bytes

    @classmethod
    def parse(cls, raw: bytes) -> _SlotDoc:
        """Validate a stored slot; raises ValueError (or KeyError, TypeError) if malformed."""
        doc = json.loads(raw)
        kdf = doc["kdf"]
        if doc.get("version") != 1 or kdf.get("name") != "argon2id":
            raise ValueError("unknown key slot version or key derivation function")
        params = KdfParams(
            _int(kdf["time_cost"]), _int(kdf["memory_kib"]), _int(kdf["parallelism"])
        )
        return cls(
            datetime.fromisoformat(doc["created"]),
            str(doc.get("hostname", "")),
            str(doc.get("username", "")),
            params,
            base64.b64decode(doc["salt"], validate=True),
            base64.b64decode(doc["data"], validate=True),
        )


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{value!r} is not a positive integer")
    return value


# (sha256 of the passphrase, salt, KDF parameters) -> the key they derive; a long-lived
# process (the API) keeps one so that each request does not pay the KDF again
KeyCache = dict[tuple[bytes, bytes, str], bytes]


def _derive(doc: _SlotDoc, password: str, cache: KeyCache | None) -> bytes:
    if cache is None:
        return doc.params.derive(password.encode(), doc.salt)
    found = (hashlib.sha256(password.encode()).digest(), doc.salt, repr(doc.params))
    key = cache.get(found)
    if key is None:
        key = cache[found] = doc.params.derive(password.encode(), doc.salt)
    return key


def open_master_key(
    backend: Backend, password: str, cache: KeyCache | None = None
) -> tuple[MasterKey, str]:
    """Try every slot with ``password``; return the master key and the slot that opened it.

    A damaged slot (its bytes no longer match its name, or it does not parse)
    is skipped, never the end of the search: the other passphrases still open
    the repository. If none opens it, damaged slots are named as such.
    """
    slots = sorted(info.name for info in backend.list(FileKind.KEY))
    if not slots:
        raise RepositoryError(
            f"the repository at {backend.location} has no key slots",
            hint="it is damaged or not a drkit repository",
        )
    damaged: dict[str, str] = {}
    for slot_id in slots:
        try:
            doc = _read_slot(backend, slot_id)
        except SlotDamaged as exc:
            damaged[slot_id] = exc.why
            continue
        key = _derive(doc, password, cache)
        try:
            raw = Sealer(key).open(doc.data, KEY_AAD)
        except DecryptError:
            continue
        for bad, why in damaged.items() | _damaged_after(backend, slots, slot_id):
            log.warning(
                "key slot %s is damaged (%s); `drkit key remove %s`", bad[:12], why, bad[:12]
            )
        return MasterKey.from_bytes(raw), slot_id
    if damaged:
        names = ", ".join(f"{s[:12]} ({why})" for s, why in damaged.items())
        raise IntegrityError(
            f"no intact key slot of {backend.location} opens with this passphrase; "
            f"damaged key slot(s): {names}",
            hint="if this passphrase belongs to a damaged slot, restore that keys/ file from "
            "another copy of the repository; otherwise try another passphrase",
        )
    raise WrongPassword(f"no key slot of {backend.location} opens with this passphrase")


def _damaged_after(backend: Backend, slots: list[str], opened: str) -> set[tuple[str, str]]:
    """The damaged slots after the one that opened (so a warning names every one)."""
    found = set()
    for slot_id in slots[slots.index(opened) + 1 :]:
        try:
            _read_slot(backend, slot_id)
        except SlotDamaged as exc:
            found.add((slot_id, exc.why))
    return found


def damaged_key_slots(backend: Backend) -> dict[str, str]:
    """Every key slot whose structure is damaged, with why (for `check`)."""
    damaged = {}
    for info in backend.list(FileKind.KEY):
        try:
            _read_slot(backend, info.name)
        except SlotDamaged as exc:
            damaged[info.name] = exc.why
    return damaged


def list_key_slots(backend: Backend) -> list[KeySlot]:
    """Every slot; a damaged one is listed with ``damaged`` saying why (so it can be removed)."""
    slots = []
    for info in backend.list(FileKind.KEY):
        try:
            doc = _read_slot(backend, info.name)
        except SlotDamaged as exc:
            slots.append(KeySlot(info.name, _EPOCH, "", "", KdfParams(), damaged=exc.why))
            continue
        slots.append(KeySlot(info.name, doc.created, doc.hostname, doc.username, doc.params))
    return sorted(slots, key=lambda s: (s.created, s.id))


class SlotDamaged(Exception):
    def __init__(self, slot_id: str, why: str) -> None:
        super().__init__(f"key slot {slot_id[:12]} is damaged: {why}")
        self.why = why


def _read_slot(backend: Backend, slot_id: str) -> _SlotDoc:
    raw = backend.load(FileKind.KEY, slot_id)
    if content_hash(raw) != slot_id:
        raise SlotDamaged(slot_id, "its content does not match its name")
    try:
        return _SlotDoc.parse(raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SlotDamaged(slot_id, f"malformed or of an unknown kind: {exc}") from None
