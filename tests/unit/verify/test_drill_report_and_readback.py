"""The drill verdict (pure) and the read-back of a restore directory against a manifest."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import blake3
import pytest

from drkit.verify.drill import DrillEntry, DrillReport, DrillVerdict
from drkit.verify.readback import ExpectedFile, Manifest, read_back
from drkit.verify.restore_test import RestoreTestResult
from drkit.verify.steps import StepKind, StepResult

T = datetime(2025, 1, 1, tzinfo=UTC)
KEY = b"k" * 32


def result(rto_s: float, ok: bool = True) -> RestoreTestResult:
    step = StepResult("restore", StepKind.RESTORE, T, rto_s, ok, "" if ok else "broken")
    return RestoreTestResult("r", "id", "s" * 64, T, T, 1, 1, (step,), (), (), rto_s, rto_s)


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("entries", "verdict", "measured"),
    [
        ([DrillEntry("a", HOUR, result(10)), DrillEntry("b", HOUR, result(20))], "passed", 20),
        (
            [DrillEntry("a", HOUR, result(10)), DrillEntry("b", HOUR, result(4000))],
            "rto-missed",
            4000,
        ),
        (
            [DrillEntry("a", HOUR, result(4000)), DrillEntry("b", HOUR, result(1, ok=False))],
            "failed",
            4000,
        ),
        ([DrillEntry("a", HOUR, error="gone", error_code="repository-not-found")], "failed", None),
        ([DrillEntry("a", None, result(99999))], "passed", 99999),  # no objective: only pass/fail
    ],
)
def test_drill_verdict(entries: list[DrillEntry], verdict: str, measured: float | None) -> None:
    report = DrillReport("app", entries[0].objective, T, tuple(entries))
    assert report.verdict is DrillVerdict(verdict)
    assert report.passed is (verdict == "passed")
    assert report.measured_rto_s == measured
    assert report.to_json()["verdict"] == verdict


def ids(*pieces: bytes) -> tuple[tuple[bytes, int], ...]:
    return tuple((blake3.blake3(p, key=KEY).digest(), len(p)) for p in pieces)


def hasher(data: bytes) -> bytes:
    return blake3.blake3(data, key=KEY).digest()


def test_read_back_names_every_kind_of_difference(tmp_path: Path) -> None:
    manifest = Manifest(
        files=[
            ExpectedFile("/ok", 6, ids(b"abc", b"def")),
            ExpectedFile("/changed", 6, ids(b"abc", b"def")),
            ExpectedFile("/short", 6, ids(b"abc", b"def")),
            ExpectedFile("/missing", 1, ids(b"x")),
            ExpectedFile("/skipped", 1, ids(b"x")),
        ],
        symlinks={"/link": "ok", "/badlink": "ok"},
        dirs=["/dir", "/nodir"],
    )
    (tmp_path / "ok").write_bytes(b"abcdef")
    (tmp_path / "changed").write_bytes(b"abcdeX")
    (tmp_path / "short").write_bytes(b"abc")
    os.symlink("ok", tmp_path / "link")
    os.symlink("elsewhere", tmp_path / "badlink")
    (tmp_path / "dir").mkdir()

    found = read_back(str(tmp_path), manifest, hasher, skip={"/skipped"})

    assert [(p.path, p.reason.split(" ")[0]) for p in found] == [
        ("/badlink", "symlink"),
        ("/changed", "content"),
        ("/missing", "missing"),
        ("/nodir", "directory"),
        ("/short", "is"),
    ]
    changed = next(p for p in found if p.path == "/changed")
    assert "bytes 3-5" in changed.reason
