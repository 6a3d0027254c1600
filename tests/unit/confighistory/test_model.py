"""Scopes, selectors, and globs over any file system."""

from __future__ import annotations

import pytest

from drkit.confighistory.errors import BadReference
from drkit.confighistory.globbing import expand, glob_match
from drkit.confighistory.model import Scope, ScopeSelector

WEB1 = Scope.file("web1", "/etc/nginx/nginx.conf")
LOCAL = Scope.file("local", "/etc/nginx/conf.d/app.conf")


def test_scope_text_round_trip() -> None:
    for scope in (Scope.drkit(), WEB1, LOCAL):
        assert Scope.parse(str(scope)) == scope
    assert str(WEB1) == "file:web1:/etc/nginx/nginx.conf"
    assert (WEB1.display, LOCAL.display, Scope.drkit().display) == (
        "web1:/etc/nginx/nginx.conf",
        "/etc/nginx/conf.d/app.conf",
        "drkit",
    )
    with pytest.raises(BadReference):
        Scope.parse("file:web1:relative/path")


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("drkit", {"drkit"}),
        ("/etc/nginx/nginx.conf", {"web1"}),
        ("/etc/nginx/*", {"web1"}),  # * stays within one name
        ("web1:/etc/nginx/nginx.conf", {"web1"}),
        ("local:/etc/nginx/nginx.conf", set()),
        ("file:local:/etc/nginx/conf.d/app.conf", {"local"}),
        ("/etc/nginx/**", {"web1", "local"}),
    ],
)
def test_selectors(text: str, matches: set[str]) -> None:
    selector = ScopeSelector.parse(text)
    found = {
        "drkit" if s.is_drkit else s.host
        for s in (Scope.drkit(), WEB1, LOCAL)
        if selector.matches(s)
    }
    assert found == matches


def test_a_relative_selector_is_refused_with_a_hint() -> None:
    with pytest.raises(BadReference) as caught:
        ScopeSelector.parse("nginx.conf")
    assert "absolute path" in caught.value.hint


TREE = {
    "/": [("etc", True)],
    "/etc": [("a.conf", False), (".hidden.conf", False), ("d", True), ("b.txt", False)],
    "/etc/d": [("c.conf", False), ("e", True)],
    "/etc/d/e": [("f.conf", False)],
}


def _listdir(path: str) -> list[tuple[str, bool]]:
    return TREE.get(path, [])


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/etc/*.conf", ["/etc/a.conf"]),
        ("/etc/*/*.conf", ["/etc/d/c.conf"]),
        ("/etc/**/*.conf", ["/etc/a.conf", "/etc/d/c.conf", "/etc/d/e/f.conf"]),
        ("/etc/d/**", ["/etc/d/c.conf", "/etc/d/e/f.conf"]),
        ("/etc/?.txt", ["/etc/b.txt"]),
        ("/etc/.hidden.conf", ["/etc/.hidden.conf"]),  # literal: returned as is
        ("/etc/missing.conf", ["/etc/missing.conf"]),
        ("/nowhere/*.conf", []),
    ],
)
def test_expand(pattern: str, expected: list[str]) -> None:
    assert expand(pattern, _listdir) == expected


@pytest.mark.parametrize(
    ("pattern", "path", "result"),
    [
        ("/etc/*.conf", "/etc/a.conf", True),
        ("/etc/*.conf", "/etc/d/c.conf", False),
        ("/etc/**/*.conf", "/etc/d/e/f.conf", True),
        ("/etc/**/*.conf", "/etc/a.conf", True),
        ("/etc/a.conf", "/etc/a.conf", True),
        ("/etc/*.conf", "/etc/.hidden.conf", False),
    ],
)
def test_glob_match(pattern: str, path: str, result: bool) -> None:
    assert glob_match(pattern, path) is result
