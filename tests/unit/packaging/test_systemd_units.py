"""The systemd units: `systemd-analyze verify` clean, and the settings the daemon relies on."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drkit.scheduler.executor import STOP_GRACE_S

ROOT = Path(__file__).resolve().parents[3]
UNITS = ROOT / "packaging" / "systemd"
INSTALLED_DRKIT = "/opt/drkit/bin/drkit"  # where docs/install.md puts the venv


def _verify(tmp_path: Path, text: str, name: str) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify on a copy whose ExecStart is this test's drkit."""
    drkit = Path(sys.executable).with_name("drkit")
    unit = tmp_path / name
    unit.write_text(text.replace(INSTALLED_DRKIT, str(drkit)))
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("file", "instance"),
    [("drkit.service", "drkit.service"), ("drkit-agent@.service", "drkit-agent@eu-west.service")],
)
def test_units_pass_systemd_analyze_verify(tmp_path: Path, file: str, instance: str) -> None:
    text = (UNITS / file).read_text()
    assert INSTALLED_DRKIT in text
    result = _verify(tmp_path, text, instance)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_catches_a_bad_setting(tmp_path: Path) -> None:
    text = (UNITS / "drkit.service").read_text().replace("ProtectSystem=strict", "ProtectSystem=x")
    result = _verify(tmp_path, text, "drkit.service")
    assert "protect system value" in result.stdout + result.stderr  # what the check above sees


def _service(file: str) -> dict[str, list[str]]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    values: dict[str, list[str]] = {}
    for line in (UNITS / file).read_text().splitlines():  # repeated keys accumulate
        if "=" in line and not line.startswith("#") and not line.startswith("["):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, value
    return int(match[1]) * (60 if match[2] == "min" else 1)


@pytest.mark.parametrize("file", ["drkit.service", "drkit-agent@.service"])
def test_units_run_as_a_dedicated_user_hardened_and_stop_as_the_daemon_does(file: str) -> None:
    s = _service(file)
    assert s["User"] == ["drkit"] and s["Group"] == ["drkit"]
    assert s["Restart"] == ["on-failure"]
    # SIGTERM to the daemon only: it interrupts its steps with SIGINT and records them
    assert s["KillSignal"] == ["SIGTERM"] and s["KillMode"] == ["mixed"]
    assert _seconds(s["TimeoutStopSec"][0]) > STOP_GRACE_S + 30
    for key, value in [
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "true"),
        ("PrivateTmp", "true"),
        ("ProtectHome", "read-only"),
        ("StateDirectory", "drkit"),
    ]:
        assert s[key] == [value], key
    # DRKIT_HOME is the state directory, the one place written besides the repositories
    assert "DRKIT_HOME=/var/lib/drkit" in s["Environment"]
    assert any("/srv/backup" in v for v in s["ReadWritePaths"])


def test_serve_unit_waits_for_readiness_and_reloads_with_sighup() -> None:
    s = _service("drkit.service")
    assert s["Type"] == ["notify"] and s["NotifyAccess"] == ["main"]
    assert s["ExecStart"] == [f"{INSTALLED_DRKIT} serve"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    agent = _service("drkit-agent@.service")
    assert agent["ExecStart"] == [f"{INSTALLED_DRKIT} agent --site %i"]


def _exposure(tmp_path: Path, text: str, name: str) -> tuple[int, float]:
    drkit = Path(sys.executable).with_name("drkit")
    unit = tmp_path / name
    unit.write_text(text.replace(INSTALLED_DRKIT, str(drkit)))
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=30", str(unit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert match, result.stdout + result.stderr
    return result.returncode, float(match[1])


@pytest.mark.parametrize(
    ("file", "instance"),
    [("drkit.service", "drkit.service"), ("drkit-agent@.service", "drkit-agent@eu-west.service")],
)
def test_units_score_ok_in_systemd_analyze_security(
    tmp_path: Path, file: str, instance: str
) -> None:
    code, exposure = _exposure(tmp_path, (UNITS / file).read_text(), instance)
    assert (code, exposure <= 3.0) == (0, True), exposure
    bare = "\n".join(
        line
        for line in (UNITS / file).read_text().splitlines()
        if not re.match(r"(Protect|Private|Restrict|NoNew|Capability|SystemCall|UMask|Lock)", line)
    )
    code, exposure = _exposure(tmp_path, bare, instance)
    assert code != 0 and exposure > 3.0  # the same unit without its hardening fails the bar
