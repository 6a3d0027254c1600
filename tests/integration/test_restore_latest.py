"""`latest` narrowed by policy, tag, path and host; an --include that matches nothing is an error.

Reproduces issue 16, point 8: in a repository shared by two sources, `latest` was the
other source's snapshot, and `--include` of a path not in it printed "restored 0 files"
and exited 0.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner


def _tree(root: Path, name: str) -> Path:
    folder = root / name
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / f"{name}.txt").write_text(f"{name} data\n")
    return folder


def test_latest_is_narrowed_and_an_include_matching_nothing_fails(
    initialized: Runner, tmp_path: Path
) -> None:
    app, cache = _tree(tmp_path, "app"), _tree(tmp_path, "cache")
    initialized("backup", str(app), "--tag", "policy:app", "--host", "h1").check()
    initialized("backup", str(cache), "--tag", "policy:cache", "--host", "h2").check()

    by_policy = initialized(
        "restore", "latest", "--target", str(tmp_path / "r1"), "--policy", "app"
    )
    by_policy.check()
    assert list((tmp_path / "r1").rglob("app.txt")) and not list(
        (tmp_path / "r1").rglob("cache.txt")
    )

    for option, value in (("--tag", "policy:app"), ("--path", str(app)), ("--host", "h1")):
        out = tmp_path / f"r-{option.strip('-')}"
        done = initialized("restore", "latest", "--target", str(out), option, value, "--json")
        done.check()
        assert [p.name for p in out.rglob("*.txt")] == ["app.txt"], option
        assert json.loads(done.stdout)["files"] == 1

    plain = initialized("restore", "latest", "--target", str(tmp_path / "r2"))
    plain.check()
    assert list((tmp_path / "r2").rglob("cache.txt"))  # unfiltered: the newest of all

    none = initialized("restore", "latest", "--target", str(tmp_path / "r3"), "--policy", "db")
    assert none.returncode == 14, none.stderr
    assert "no snapshot with tag policy:db" in none.stderr

    missing = tmp_path / "r4"
    wrong = initialized(
        "restore", "latest", "--target", str(missing), "--policy", "app",
        "--include", str(app / "nope"),
    )  # fmt: skip
    assert wrong.returncode == 14, wrong.stderr
    assert "matches --include" in wrong.stderr and "drkit ls" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert not missing.exists() or not any(missing.rglob("*"))
