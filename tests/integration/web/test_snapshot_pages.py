"""The snapshots of a repository and the files of one, over HTTP against the real server."""

from __future__ import annotations

import re

import pytest

from tests.integration.api.conftest import Api
from tests.integration.web.conftest import signed_in


def test_snapshots_per_repository_and_a_snapshots_files(site: Api) -> None:
    snaps = site.cli_json("--repo", "local", "snapshots")
    with signed_in(site, "dana") as c:
        repos = c.get("/snapshots")
        assert repos.status_code == 200 and 'href="/snapshots/local"' in repos.text
        listing = c.get("/snapshots/local")
        assert listing.status_code == 200
        shown = re.findall(r"<code>([0-9a-f]{8})</code>", listing.text)
        assert shown == [s["short_id"] for s in reversed(snaps)]
        top = c.get("/snapshots/local", params={"snapshot": snaps[0]["id"]})
        assert top.status_code == 200
        # the snapshot holds the source directory's absolute path: each level links the next
        parent = "/"
        for part in (p for p in str(site.root / "src").split("/") if p):
            level = c.get("/snapshots/local", params={"snapshot": snaps[0]["id"], "path": parent})
            assert f">{part}/</a>" in level.text, (parent, level.text[-800:])
            parent = parent.rstrip("/") + "/" + part
        files = c.get("/snapshots/local", params={"snapshot": snaps[0]["id"], "path": parent})
        assert re.search(r"<td>a\.txt</td>\s*<td>6 B</td>", files.text), files.text[-800:]


def test_unknown_repositories_snapshots_and_paths_answer_404_with_a_hint(site: Api) -> None:
    with signed_in(site, "dana") as c:
        assert c.get("/snapshots/nowhere").status_code == 404
        bad = c.get("/snapshots/local", params={"snapshot": "ffffffff"})
        assert bad.status_code == 404 and 'class="error"' in bad.text
        snap = site.cli_json("--repo", "local", "snapshots")[0]["id"]
        gone = c.get("/snapshots/local", params={"snapshot": snap, "path": "/no/such/dir"})
        assert gone.status_code == 404 and "is not a directory in the snapshot" in gone.text


def test_a_huge_directory_shows_its_first_entries_and_says_how_many_there_are(
    site: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drkit.web import snapshot_pages

    big = site.root / "big"
    big.mkdir()
    for i in range(30):
        (big / f"f{i:02}").write_text("x")
    site.drkit("--repo", "local", "backup", str(big)).check()
    snap = site.cli_json("--repo", "local", "snapshots")[-1]["id"]
    monkeypatch.setattr(snapshot_pages, "MAX_ENTRIES", 10)  # the server runs in this process
    with signed_in(site, "dana") as c:
        page = c.get("/snapshots/local", params={"snapshot": snap, "path": str(big)})
    assert page.status_code == 200
    assert re.findall(r"<td>(f\d\d)</td>", page.text) == [f"f{i:02}" for i in range(10)]
    assert "The first 10 of 30 entries" in page.text
