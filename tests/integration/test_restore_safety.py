"""Restore never writes outside its target; init never hides an existing repository."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Runner, make_sample_tree, tree_digest


def test_overwrite_never_follows_a_symlinked_directory(initialized: Runner, tmp_path: Path) -> None:
    src = make_sample_tree(tmp_path / "src", files=4)
    initialized("backup", str(src)).check()
    out = tmp_path / "out"
    base = out / str(src).lstrip("/")
    base.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (base / "docs").symlink_to(outside, target_is_directory=True)  # dir in the snapshot
    (base / "data").write_text("a file where the snapshot has a directory")

    initialized("restore", "latest", "--target", str(out), "--overwrite").check()
    assert list(outside.iterdir()) == []  # nothing written through the symlink
    assert not (base / "docs").is_symlink()
    assert tree_digest(base) == tree_digest(src)


def test_file_in_the_way_without_overwrite_is_a_clear_error(
    initialized: Runner, tmp_path: Path
) -> None:
    src = make_sample_tree(tmp_path / "src", files=2)
    initialized("backup", str(src)).check()
    target = tmp_path / "target-file"
    target.write_text("not a directory")
    done = initialized("restore", "latest", "--target", str(target))
    assert done.returncode not in (0, 1), done.stderr
    assert "Traceback" not in done.stderr and "error:" in done.stderr


def test_init_refuses_where_repository_data_exists(
    initialized: Runner, repo_dir: Path, tmp_path: Path
) -> None:
    src = make_sample_tree(tmp_path / "src", files=2)
    initialized("backup", str(src)).check()
    (repo_dir / "config").unlink()
    opened = initialized("snapshots")
    assert opened.returncode == 10
    assert "lost its `config` file" in opened.stderr and "do not run `drkit init`" in opened.stderr
    refused = initialized("init")
    assert refused.returncode == 1
    assert "holds repository data" in refused.stderr and "hint:" in refused.stderr
    assert list((repo_dir / "snapshots").iterdir())  # the snapshots are still there
    assert not (repo_dir / "config").exists()


def test_repository_path_that_is_a_file(drkit: Runner, tmp_path: Path) -> None:
    not_a_repo = tmp_path / "file"
    not_a_repo.write_text("x")
    done = drkit("snapshots", repo=not_a_repo)
    assert done.returncode == 10
    assert "is a file, not a repository folder" in done.stderr
    assert "Not a directory" not in done.stderr
    made = drkit("init", repo=not_a_repo)
    assert made.returncode != 0 and "Traceback" not in made.stderr
