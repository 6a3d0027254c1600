"""docs/install.md's wheel install, for real: the wheel ships the schema, bytecode is compiled.

Builds the wheel with uv, installs it into fresh virtual environments the way
the docs say (``uv pip install --compile-bytecode``) and once without, so the
bytecode check is seen to fail where nothing was compiled.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib.util import cache_from_source
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _uv() -> str:
    return str(Path(sys.executable).with_name("uv"))  # a dev dependency in the venv


def _run(*argv: str | Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Install:
    wheel: Path
    venv: Path

    @property
    def drkit(self) -> Path:
        return self.venv / "bin" / "drkit"

    def package(self) -> Path:
        (site,) = (self.venv / "lib").glob("python3.*/site-packages")
        return site / "drkit"


def _install(tmp: Path, wheel: Path, name: str, *options: str) -> Install:
    venv = tmp / name
    _run(_uv(), "venv", "-q", "--python", sys.executable, venv)
    _run(_uv(), "pip", "install", "-q", "--python", venv / "bin" / "python", *options, wheel)
    return Install(wheel, venv)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(_uv(), "build", "--wheel", "-q", "--out-dir", out, ROOT)
    (built,) = out.glob("drkit-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Install:
    return _install(tmp_path_factory.mktemp("install"), wheel, "venv", "--compile-bytecode")


def stale_or_missing_bytecode(package: Path) -> list[str]:
    """Modules whose .pyc is absent or does not match the source (Python would recompile)."""
    bad = []
    for source in sorted(package.rglob("*.py")):
        pyc = Path(cache_from_source(str(source)))
        if not pyc.exists():
            bad.append(str(source.relative_to(package)))
            continue
        flags, mtime, size = struct.unpack("<III", pyc.read_bytes()[4:16])
        st = source.stat()
        if flags == 0 and (mtime, size) != (int(st.st_mtime) & 0xFFFFFFFF, st.st_size):
            bad.append(str(source.relative_to(package)))
    return bad


def test_the_wheel_ships_the_schema_migrations_and_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "drkit/runbooks/runbook.schema.json",
        "drkit/catalog/migrations/env.py",
        "drkit/catalog/migrations/script.py.mako",
        "drkit/catalog/migrations/versions/0001_initial.py",
        "drkit/py.typed",
    ):
        assert needed in names
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


def test_the_documented_install_compiles_every_module(installed: Install, tmp_path: Path) -> None:
    assert stale_or_missing_bytecode(installed.package()) == []
    plain = _install(tmp_path, installed.wheel, "plain")  # no --compile-bytecode
    assert len(stale_or_missing_bytecode(plain.package())) > 200  # the check can fail


def test_installed_drkit_prints_version_and_the_shipped_schema(installed: Install) -> None:
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    assert _run(installed.drkit, "--version", env=env).startswith("drkit ")
    path = Path(_run(installed.drkit, "runbook", "schema", "--path", env=env).strip())
    assert path == installed.package() / "runbooks" / "runbook.schema.json"
    printed = _run(installed.drkit, "runbook", "schema", env=env)
    assert printed == path.read_text() == (ROOT / "docs" / "runbook.schema.json").read_text()
    assert stale_or_missing_bytecode(installed.package()) == []  # nothing written meanwhile
