"""Blob identity and location: the vocabulary shared by packs, index and trees."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class BlobType(IntEnum):
    DATA = 0
    TREE = 1


class PackedBlob(NamedTuple):
    """A blob's place inside a pack file."""

    id: bytes  # 32-byte keyed BLAKE3 of the plaintext
    type: BlobType
    offset: int
    length: int  # stored (sealed) length
    raw_length: int  # uncompressed plaintext length; 0 = stored uncompressed


class BlobLocation(NamedTuple):
    """An index entry: a blob and the pack holding it."""

    pack: str
    type: BlobType
    offset: int
    length: int
    raw_length: int


def plaintext_length(loc: BlobLocation | PackedBlob, overhead: int) -> int:
    """Length of the blob's plaintext, compressed or not."""
    return loc.raw_length or loc.length - overhead
