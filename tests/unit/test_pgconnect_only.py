"""PostgreSQL connections are opened in one place: drkit.pgconnect (timeouts, autocommit, name)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "drkit"


def _connect_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "connect"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "psycopg"
    ]


def test_only_pgconnect_calls_psycopg_connect() -> None:
    found = {
        f"{path.relative_to(SRC)}:{line}"
        for path in SRC.rglob("*.py")
        if path.name != "pgconnect.py" or path.parent != SRC
        for line in _connect_calls(path)
    }
    assert found == set(), f"open PostgreSQL connections with drkit.pgconnect.connect: {found}"
