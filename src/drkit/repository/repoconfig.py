"""The repository's ``config`` object: format version, id and chunker parameters.

Sealed with the master key (AAD ``b"drkit-config"``) so the chunker seed,
which would otherwise let an observer fingerprint content by chunk sizes,
stays secret.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

from drkit.errors import UnsupportedFormat

FORMAT_VERSION = 1
CONFIG_AAD = b"drkit-config"


@dataclass(frozen=True)
class ChunkerParams:
    min_size: int = 512 * 1024
    avg_size: int = 1024 * 1024
    max_size: int = 4 * 1024 * 1024
    seed: int = 0

    @classmethod
    def random(cls) -> ChunkerParams:
        return cls(seed=secrets.randbits(63) | 1)


@dataclass(frozen=True)
class RepoConfig:
    id: str
    version: int
    chunker: ChunkerParams

    @classmethod
    def new(cls) -> RepoConfig:
        return cls(secrets.token_hex(32), FORMAT_VERSION, ChunkerParams.random())

    def encode(self) -> bytes:
        return json.dumps(
            {"version": self.version, "id": self.id, "chunker": asdict(self.chunker)}
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> RepoConfig:
        doc = json.loads(raw)
        if doc.get("version") != FORMAT_VERSION:
            raise UnsupportedFormat(
                f"repository format version {doc.get('version')} is not "
                f"supported (this drkit reads version {FORMAT_VERSION})"
            )
        return cls(doc["id"], doc["version"], ChunkerParams(**doc["chunker"]))
