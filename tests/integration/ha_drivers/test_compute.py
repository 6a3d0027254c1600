"""The command and ssh compute drivers pass the Compute contract with real processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drkit.ha.drivers.compute.base import Compute
from drkit.ha.drivers.compute.registry import COMPUTE
from drkit.ha.drivers.errors import ComputeError
from tests.fixtures.sshd import SshServer
from tests.unit.ha_drivers.contract_compute import ComputeContract, Make, kill_app


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    kill_app(tmp_path)


class TestCommand(ComputeContract):
    @pytest.fixture
    def make(self) -> Make:
        def make(start: str, stop: str, status: str) -> Compute:
            settings = COMPUTE.parse(
                {
                    "type": "command",
                    "start": ["sh", "-c", start],
                    "stop": ["sh", "-c", stop],
                    "status": ["sh", "-c", status],
                    "wait_s": 1,
                }
            )
            return COMPUTE.build(settings)  # type: ignore[no-any-return]

        return make


def ssh_settings(server: SshServer, **extra: object) -> dict[str, object]:
    return {
        "type": "ssh",
        "host": server.host,
        "port": server.port,
        "user": server.user,
        "key_file": str(server.key),
        "known_hosts": str(server.known_hosts),
        "wait_s": 1,
        **extra,
    }


class TestSsh(ComputeContract):
    @pytest.fixture
    def make(self, sshd: SshServer) -> Make:
        def make(start: str, stop: str, status: str) -> Compute:
            settings = COMPUTE.parse(ssh_settings(sshd, start=start, stop=stop, status=status))
            return COMPUTE.build(settings)  # type: ignore[no-any-return]

        return make


def test_ssh_refuses_an_unknown_host_key(sshd: SshServer, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    app = COMPUTE.build(
        COMPUTE.parse(
            ssh_settings(sshd, known_hosts=str(empty), start="true", stop="true", status="true")
        )
    )
    with pytest.raises(ComputeError, match="known_hosts"):
        app.status()


def test_ssh_unreachable_host_is_an_error() -> None:
    app = COMPUTE.build(
        COMPUTE.parse(
            {
                "type": "ssh",
                "host": "127.0.0.1",
                "port": 1,
                "user": "x",
                "key_file": "/nonexistent",
                "known_hosts": "/dev/null",
                "start": "true",
                "stop": "true",
                "status": "true",
            }
        )
    )
    with pytest.raises(ComputeError, match="cannot reach"):
        app.status()
