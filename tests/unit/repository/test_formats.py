"""Byte formats: sealing, packs and index files round-trip and reject tampering."""

from __future__ import annotations

import os

import pytest

from drkit.errors import UsageError
from drkit.repository.blob import BlobType, PackedBlob
from drkit.repository.compression import Compression, Compressor, decompress
from drkit.repository.crypto import OVERHEAD, DecryptError, IdHasher, Sealer
from drkit.repository.index import IndexFormatError, decode_index, encode_index
from drkit.repository.pack import PackFormatError, decode_header, encode_header

KEY = bytes(range(32))


def test_seal_round_trip_and_aad_binding() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal(b"payload", b"id-1")
    assert len(sealed) == len(b"payload") + OVERHEAD
    assert sealer.open(sealed, b"id-1") == b"payload"
    with pytest.raises(DecryptError):
        sealer.open(sealed, b"id-2")
    flipped = bytearray(sealed)
    flipped[15] ^= 1
    with pytest.raises(DecryptError):
        sealer.open(bytes(flipped), b"id-1")


def test_nonces_differ_between_seals() -> None:
    sealer = Sealer(KEY)
    assert sealer.seal(b"x", b"") != sealer.seal(b"x", b"")


def test_ids_are_keyed() -> None:
    assert IdHasher(KEY)(b"data") != IdHasher(bytes(32))(b"data")
    assert IdHasher(KEY)(b"data") == IdHasher(KEY)(memoryview(b"data"))


def test_compression_skips_incompressible_and_round_trips() -> None:
    comp = Compressor(Compression.parse("auto"))
    text = b"the same line again\n" * 1000
    stored, raw = comp.compress(text)
    assert raw == len(text) and len(stored) < len(text) // 10
    assert decompress(bytes(stored), raw) == text
    noise = os.urandom(4096)
    stored, raw = comp.compress(noise)
    assert raw == 0 and stored == noise
    assert Compressor(Compression.parse("off")).compress(text) == (text, 0)


@pytest.mark.parametrize("bad", ["zstd", "zstd:0", "zstd:23", "lz4", ""])
def test_compression_setting_rejects_unknown(bad: str) -> None:
    with pytest.raises(UsageError):
        Compression.parse(bad)


def _blobs() -> list[PackedBlob]:
    return [PackedBlob(bytes([i]) * 32, BlobType(i % 2), 0, 100 + i, i * 7) for i in range(5)]


def test_pack_header_round_trip_computes_offsets() -> None:
    sealer = Sealer(KEY)
    blobs = _blobs()
    body = b"".join(os.urandom(b.length) for b in blobs)
    pack = body + encode_header(blobs, sealer)
    decoded = decode_header(pack, sealer)
    assert [b.id for b in decoded] == [b.id for b in blobs]
    assert [b.offset for b in decoded] == [0, 100, 201, 303, 406]
    assert [b.raw_length for b in decoded] == [b.raw_length for b in blobs]


def test_pack_header_damage_is_detected() -> None:
    sealer = Sealer(KEY)
    blobs = _blobs()
    pack = bytearray(b"\0" * sum(b.length for b in blobs) + encode_header(blobs, sealer))
    pack[-10] ^= 0xFF
    with pytest.raises(PackFormatError):
        decode_header(bytes(pack), sealer)
    with pytest.raises(PackFormatError):
        decode_header(b"\x01", sealer)


def test_index_round_trip_and_damage() -> None:
    sealer = Sealer(KEY)
    packs = [("ab" * 32, _blobs()), ("cd" * 32, _blobs()[:2])]
    stored = encode_index(packs, sealer)
    assert decode_index(stored, sealer) == packs
    damaged = bytearray(stored)
    damaged[20] ^= 1
    with pytest.raises(IndexFormatError):
        decode_index(bytes(damaged), sealer)
