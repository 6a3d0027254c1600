"""Python 3.11 to 3.13: no upper cap, a lock that installs on all three without a compiler."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SUPPORTED = ("cp311", "cp312", "cp313")


def _lock() -> dict[str, object]:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def test_requires_python_has_no_upper_cap() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert _lock()["requires-python"] == ">=3.11"


def _serves(wheel: str, tag: str) -> bool:
    """Whether a wheel file installs on CPython ``tag`` (cp312): its own tag, or abi3 from older."""
    python, abi = wheel.removesuffix(".whl").split("-")[-3:-1]
    if abi == "none" and "py3" in python.split("."):
        return True  # a binary without Python ABI (ruff)
    if abi == "abi3":
        return any(int(t[2:]) <= int(tag[2:]) for t in python.split(".") if t.startswith("cp"))
    return tag in python.split(".") and abi == tag


def _missing_wheels(package: dict[str, object]) -> list[str]:
    names = [str(w["url"]).rsplit("/", 1)[1] for w in package.get("wheels", [])]  # type: ignore[attr-defined]
    if not names or any("-none-any" in n for n in names):
        return []  # pure Python (an sdist-only package is caught by the editable filter below)
    return [tag for tag in SUPPORTED if not any(_serves(n, tag) for n in names)]


def test_every_compiled_dependency_has_wheels_for_311_312_313() -> None:
    packages = _lock()["package"]
    assert isinstance(packages, list)
    gaps = {
        f"{p['name']} {p['version']}": missing
        for p in packages
        if (missing := _missing_wheels(p)) and p.get("source", {}).get("editable") is None
    }
    assert gaps == {}, "these would need a compiler on that Python: pin versions with wheels"
    compiled = [p["name"] for p in packages if p.get("wheels") and not _pure(p)]
    assert {"pyfastcdc", "blake3", "zstandard", "cryptography"} <= set(compiled)


def _pure(package: dict[str, object]) -> bool:
    return any("-none-any" in str(w["url"]) for w in package["wheels"])  # type: ignore[attr-defined]


def test_the_gap_finder_sees_a_wheel_missing_for_313() -> None:
    only_311 = {"wheels": [{"url": "https://x/pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"}]}
    assert _missing_wheels(only_311) == ["cp312", "cp313"]
    abi3 = {"wheels": [{"url": "https://x/c-43-cp39-abi3-manylinux_2_28_x86_64.whl"}]}
    assert _missing_wheels(abi3) == []
    free_threaded_only = {
        "wheels": [{"url": "https://x/b-5-cp313-cp313t-manylinux_2_28_x86_64.whl"}]
    }
    assert _missing_wheels(free_threaded_only) == ["cp311", "cp312", "cp313"]


def test_readme_says_which_versions_are_supported_and_tested() -> None:
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"Python 3\.11 to 3\.13", readme)
    assert re.search(r"tested here on 3\.11", readme)
