"""The ownership rule of local repositories: new files take the root folder's owner and
group, readable by the group when the root folder is."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from drkit.storage.base import FileKind
from drkit.storage.local import LocalBackend
from drkit.storage.ownership import Ownership


@pytest.mark.parametrize(
    ("root_mode", "euid", "file_mode", "dir_mode", "chown"),
    [(0o755, 0, 0o640, 0o750, True), (0o750, 0, 0o640, 0o750, True),
     (0o700, 0, 0o600, 0o700, True), (0o2770, 1000, 0o640, 0o750, False),
     (0o710, 1000, 0o600, 0o700, False)],
)  # fmt: skip
def test_rule(root_mode: int, euid: int, file_mode: int, dir_mode: int, chown: bool) -> None:
    rule = Ownership.of_root(root_mode, 70, 71, euid)
    assert (rule.uid, rule.gid) == (70, 71)
    assert (rule.file_mode, rule.dir_mode, rule.chown) == (file_mode, dir_mode, chown)


def test_root_writes_files_owned_like_the_repository(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "this test gives files away, which needs root"
    root = tmp_path / "repo"
    root.mkdir(mode=0o750)
    os.chown(root, 65534, 65534)
    backend = LocalBackend(root)
    backend.save(FileKind.WAL, "1-000000010000000000000001", [b"x" * 10])
    backend.save(FileKind.PACK, "ab" + "0" * 62, [b"y"])
    for path in (root / "wal", root / "wal" / "1-000000010000000000000001", root / "data"):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534), path
        want = 0o750 if path.is_dir() else 0o640
        assert stat.S_IMODE(st.st_mode) == want, path
