"""`drkit forget` and `drkit prune` through the CLI: policies, ids, dry runs, JSON, space."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from tests.conftest import Runner, tree_digest

Snapshots = list[tuple[str, dict[str, tuple[str, int, str]]]]  # (id, digest) oldest first


def fill(root: Path, seed: int, files: int = 3, size: int = 700 * 1024) -> int:
    """Replace ``root``'s content with random files; return the bytes written."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rnd = random.Random(seed)
    for i in range(files):
        (root / f"file{i}.bin").write_bytes(rnd.randbytes(size))
    return files * size


def listing(repo_dir: Path) -> dict[str, int]:
    return {
        str(p.relative_to(repo_dir)): p.stat().st_size for p in repo_dir.rglob("*") if p.is_file()
    }


def pack_files(repo_dir: Path) -> set[str]:
    """Stored packs (``data/XX/ID``), not temporary files of unfinished ones."""
    return {k for k in listing(repo_dir) if k.startswith("data/") and "/." not in k}


def repo_size(repo_dir: Path) -> int:
    return sum(listing(repo_dir).values())


def snapshot_ids(repo_dir: Path) -> set[str]:
    return {p.name for p in (repo_dir / "snapshots").iterdir()}


def backups(drkit: Runner, repo_dir: Path, src: Path, count: int, *extra: str) -> Snapshots:
    """``count`` snapshots of ``src``, each with entirely new content."""
    made: Snapshots = []
    for seed in range(count):
        fill(src, seed)
        before = snapshot_ids(repo_dir)
        drkit("-q", "backup", *extra, str(src)).check()
        (new,) = snapshot_ids(repo_dir) - before
        made.append((new, tree_digest(src)))
    return made


def assert_restores(drkit: Runner, snapshot: str, src: Path, digest: object, target: Path) -> None:
    drkit("restore", snapshot, "--target", str(target)).check()
    assert tree_digest(target / str(src).lstrip("/")) == digest


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return tmp_path / "src"


# -------------------------------------------------------------------------------- tests


def test_keep_last_two_of_five_then_prune_frees_the_space(
    initialized: Runner, repo_dir: Path, src: Path, tmp_path: Path
) -> None:
    snaps = backups(initialized, repo_dir, src, 5)
    data_per_snapshot = fill(tmp_path / "measure", 0)

    forgot = initialized("forget", "--keep-last", "2").check()

    assert "removed 3 snapshot(s)" in forgot.stdout
    assert forgot.stdout.count("last snapshot") == 2
    assert snapshot_ids(repo_dir) == {snaps[3][0], snaps[4][0]}
    before = repo_size(repo_dir)
    initialized("prune").check()
    assert before - repo_size(repo_dir) >= 3 * data_per_snapshot  # all of it was unique
    for n, (snap, digest) in enumerate(snaps[3:]):
        assert_restores(initialized, snap, src, digest, tmp_path / f"restored-{n}")
    initialized("check", "--read-data").check()


def test_dry_runs_change_nothing(initialized: Runner, repo_dir: Path, src: Path) -> None:
    snaps = backups(initialized, repo_dir, src, 3)
    before = listing(repo_dir)

    planned = initialized("forget", "--keep-last", "1", "--dry-run", "--prune").check()

    assert "dry run: would remove 2 snapshot(s); nothing was changed" in planned.stdout
    assert "would free" in planned.stdout
    assert listing(repo_dir) == before
    initialized("forget", snaps[0][0][:8]).check()
    after_forget = listing(repo_dir)
    pruned = initialized("prune", "--dry-run", "--max-unused", "0").check()
    assert "dry run: nothing was changed" in pruned.stdout
    assert listing(repo_dir) == after_forget


def test_forget_by_id(initialized: Runner, repo_dir: Path, src: Path) -> None:
    snaps = backups(initialized, repo_dir, src, 3)

    done = initialized("forget", snaps[0][0][:8], snaps[2][0]).check()

    assert "removed 2 snapshot(s)" in done.stdout
    assert snaps[0][0][:8] in done.stdout
    assert snapshot_ids(repo_dir) == {snaps[1][0]}


BAD_REQUESTS = [
    (["forget"], 2, "no keep policy"),
    (["forget", "abcd", "--keep-last", "1"], 2, "not both"),
    (["forget", "ffffffff"], 14, "no snapshot"),
    (["forget", "--keep-last", "1", "--group-by", "colour"], 2, "colour"),
    (["forget", "--keep-within", "3 weeks"], 2, "duration"),
    (["prune", "--max-unused", "120"], 2, "max-unused"),
]


def test_bad_requests_change_nothing(initialized: Runner, repo_dir: Path, src: Path) -> None:
    backups(initialized, repo_dir, src, 1)
    before = listing(repo_dir)
    for args, code, message in BAD_REQUESTS:
        result = initialized(*args)
        assert (result.returncode, message in result.stderr) == (code, True), (args, result)
        assert listing(repo_dir) == before, args


def test_json_output(initialized: Runner, repo_dir: Path, src: Path) -> None:
    snaps = backups(initialized, repo_dir, src, 3)

    dry = json.loads(initialized("forget", "--keep-last", "1", "--dry-run", "--json").stdout)
    done = json.loads(initialized("forget", "--keep-last", "1", "--prune", "--json").stdout)
    again = json.loads(initialized("prune", "--json").stdout)

    assert dry["dry_run"] is True and dry["removed"] == [] and dry["prune"] is None
    assert sorted(dry["would_remove"]) == sorted(s for s, _ in snaps[:2])
    (group,) = done["groups"]
    assert group["key"] == {"host": group["keep"][0]["hostname"], "paths": str(src)}
    assert [k["id"] for k in group["keep"]] == [snaps[2][0]]
    assert group["keep"][0]["reasons"] == ["last snapshot"]
    assert sorted(r["id"] for r in group["remove"]) == sorted(done["removed"])
    assert sorted(done["removed"]) == sorted(s for s, _ in snaps[:2])
    assert done["prune"]["dry_run"] is False
    assert done["prune"]["packs"]["deleted"] > 0 and done["prune"]["bytes_freed"] > 0
    assert again["packs"]["deleted"] == again["packs"]["repacked"] == again["bytes_freed"] == 0


def test_policy_applies_per_host_and_honours_tags(
    initialized: Runner, repo_dir: Path, src: Path
) -> None:
    host_a = backups(initialized, repo_dir, src, 2, "--host", "alpha")
    host_b = backups(initialized, repo_dir, src, 2, "--host", "beta")
    tagged = backups(initialized, repo_dir, src, 1, "--host", "beta", "--tag", "golden")

    one_group = json.loads(
        initialized("forget", "--keep-last", "1", "--group-by", "", "--dry-run", "--json").stdout
    )
    assert [k["id"] for g in one_group["groups"] for k in g["keep"]] == [tagged[0][0]]

    result = json.loads(
        initialized("forget", "--keep-last", "1", "--keep-tag", "golden", "--json").stdout
    )
    keys = [g["key"]["host"] for g in result["groups"]]
    assert keys == ["alpha", "beta"]
    assert snapshot_ids(repo_dir) == {host_a[1][0], tagged[0][0]}
    assert sorted(result["removed"]) == sorted([host_a[0][0], host_b[0][0], host_b[1][0]])
    beta_keep = result["groups"][1]["keep"]
    assert beta_keep[0]["reasons"] == ["last snapshot", "tag golden"]


def test_prune_removes_packs_left_by_a_crashed_backup(
    initialized: Runner, repo_dir: Path, src: Path, tmp_path: Path
) -> None:
    (kept,) = backups(initialized, repo_dir, src, 1)
    big = tmp_path / "big"
    fill(big, 99, files=4, size=6 * 1024 * 1024)  # 24 MiB: more than one 16 MiB pack
    packs_before = pack_files(repo_dir)
    crashed = initialized("backup", str(big), env={"DRKIT_CRASH_AT": "pack-saved:1"})
    assert crashed.returncode in (-9, 137)
    leftovers = pack_files(repo_dir) - packs_before
    assert leftovers

    result = json.loads(initialized("prune", "--json").stdout)

    assert result["packs"]["unindexed"] == len(leftovers)
    assert not leftovers & set(listing(repo_dir))
    assert_restores(initialized, kept[0], src, kept[1], tmp_path / "restored")
    initialized("check", "--read-data").check()


def test_prune_removes_staging_files_of_crashed_writers(
    initialized: Runner, repo_dir: Path, src: Path
) -> None:
    fill(src, seed=7)
    initialized("backup", str(src)).check()
    leftovers = [repo_dir / "data" / ".tmp-pack-crashed", repo_dir / "index" / ".tmp-x-1"]
    for path in leftovers:
        path.write_bytes(b"half a pack")
    initialized("check").check()  # leftovers are invisible to readers
    result = json.loads(initialized("prune", "--json").check().stdout)
    assert not any(p.exists() for p in leftovers)
    assert result["staging_removed"] == 2
    initialized("check", "--read-data").check()


def test_forget_removes_a_damaged_snapshot_by_id_so_prune_can_run(
    initialized: Runner, repo_dir: Path, src: Path
) -> None:
    made = backups(initialized, repo_dir, src, 2)
    damaged_id = made[0][0]
    path = repo_dir / "snapshots" / damaged_id
    raw = bytearray(path.read_bytes())
    raw[40] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert initialized("prune").returncode != 0  # refuses while a snapshot is unreadable
    result = json.loads(initialized("forget", damaged_id[:10], "--json").check().stdout)
    assert result["removed"] == [damaged_id]
    assert snapshot_ids(repo_dir) == {made[1][0]}
    initialized("prune").check()
    initialized("check", "--read-data").check()
    assert_restores(initialized, made[1][0][:8], src, made[1][1], repo_dir.parent / "out")
