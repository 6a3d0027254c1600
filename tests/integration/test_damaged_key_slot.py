"""A damaged key slot costs its own passphrase only; every other one still opens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Runner

FIRST, SECOND = "correct horse battery staple", "second passphrase"


def damage(slot: Path, how: str) -> None:
    if how == "malformed":
        slot.write_text('{"version": 1, "kdf": ')
        return
    doc = json.loads(slot.read_text())
    data = bytearray(doc["data"].encode())
    data[10] = ord("A") if data[10] != ord("A") else ord("B")  # still base64: it parses
    doc["data"] = data.decode()
    slot.write_text(json.dumps(doc, indent=1))


@pytest.mark.parametrize("how", ["malformed", "parses"])
def test_damaged_slot_sorting_first_locks_nobody_else_out(
    initialized: Runner, repo_dir: Path, tmp_path: Path, how: str
) -> None:
    new = tmp_path / "new-pw"
    new.write_text(SECOND)
    initialized("key", "add", "--new-password-file", str(new)).check()
    slots = json.loads(initialized("key", "list", "--json").check().stdout)
    first_slot = min(s["id"] for s in slots)
    owner = next(s for s in slots if s["id"] == first_slot)
    # the passphrase of the slot that sorts first is FIRST when it is current
    other = {"DRKIT_PASSWORD": SECOND if owner["current"] else FIRST}
    own = {"DRKIT_PASSWORD": FIRST if owner["current"] else SECOND}
    damage(repo_dir / "keys" / first_slot, how)

    initialized("snapshots", env=other).check()  # the intact slot still opens
    refused = initialized("snapshots", env=own)
    assert refused.returncode == 13, refused.stderr  # damaged, not "wrong passphrase" (12)
    assert f"damaged key slot(s): {first_slot[:12]}" in refused.stderr

    listed = json.loads(initialized("key", "list", "--json", env=other).check().stdout)
    assert [s["id"] for s in listed if s["damaged"]] == [first_slot]
    checked = initialized("check", env=other)
    assert checked.returncode == 13
    assert f"key slot {first_slot} is damaged" in checked.stdout

    initialized("key", "remove", first_slot[:12], env=other).check()
    initialized("check", env=other).check()
    assert initialized("snapshots", env=own).returncode == 12  # now simply not a slot


def test_wrong_passphrase_with_intact_slots_is_exit_12(initialized: Runner) -> None:
    done = initialized("snapshots", env={"DRKIT_PASSWORD": "not it"})
    assert done.returncode == 12
    assert "damaged" not in done.stderr
