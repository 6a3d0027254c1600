"""The catalog copy of a version: compressed and encrypted with the key in DRKIT_HOME."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from drkit.confighistory.cipher import ContentCipher, create_key, key_path, load_key
from drkit.confighistory.errors import HistoryKeyMismatch, HistoryKeyMissing


def test_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    assert load_key(tmp_path) is None
    first = create_key(tmp_path)
    assert stat.S_IMODE(os.stat(key_path(tmp_path)).st_mode) == 0o600
    again = create_key(tmp_path)  # another process racing: the first key stays
    assert again.key_id == first.key_id
    loaded = load_key(tmp_path)
    assert loaded is not None and loaded.key_id == first.key_id
    assert [p.name for p in tmp_path.iterdir()] == ["confighistory.key"]  # no temp file left


def test_round_trip_hides_the_content_and_binds_it_to_its_version(tmp_path: Path) -> None:
    cipher = create_key(tmp_path)
    content = b"password: hunter2hunter2\n" * 50
    sealed = cipher.seal(content, "uid1")
    assert b"hunter2" not in sealed and len(sealed) < len(content)  # compressed, encrypted
    assert cipher.open(sealed, "uid1", cipher.key_id) == content
    with pytest.raises(HistoryKeyMismatch, match="does not decrypt"):
        cipher.open(sealed, "uid2", cipher.key_id)  # moved to another row
    damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(HistoryKeyMismatch):
        cipher.open(damaged, "uid1", cipher.key_id)


def test_another_key_is_named_as_such(tmp_path: Path) -> None:
    one, other = ContentCipher(b"\x01" * 32), ContentCipher(b"\x02" * 32)
    sealed = one.seal(b"x", "u")
    with pytest.raises(HistoryKeyMismatch) as caught:
        other.open(sealed, "u", one.key_id)
    assert one.key_id in caught.value.message and "--from-repository" in caught.value.hint
    assert caught.value.exit_code == 53


def test_a_damaged_key_file_is_reported(tmp_path: Path) -> None:
    key_path(tmp_path).write_text("not hex\n")
    with pytest.raises(HistoryKeyMissing, match="does not hold"):
        load_key(tmp_path)
