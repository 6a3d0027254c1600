"""Collecting from and restoring to a host over SSH, against OpenSSH's sshd on loopback."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

from drkit.catalog.types import utcnow
from tests.fixtures.sshd import SshServer
from tests.integration.confighistory.conftest import Drkit


def _settings(
    dk: Drkit,
    server: SshServer,
    remote: Path,
    *,
    known_hosts: Path | None = None,
    port: int | None = None,
) -> None:
    dk.write_config(
        f"""
        version: 1
        config_history:
          inventory:
            web1:
              address: {server.host}
              port: {port or server.port}
              user: {server.user}
              key: {server.key}
              known_hosts: {known_hosts or server.known_hosts}
              timeout: 5
          sources:
            - name: nginx
              host: web1
              paths: [{remote}/nginx.conf, {remote}/conf.d/*.conf]
        """
    )


def _remote_tree(tmp_path: Path) -> Path:
    remote = tmp_path / "remote-etc"
    (remote / "conf.d").mkdir(parents=True)
    (remote / "nginx.conf").write_text("worker_processes 2;\nssl_password_file /x;\n")
    (remote / "conf.d" / "a.conf").write_text("server { listen 80; }\n")
    (remote / "conf.d" / "b.conf").write_text("server { listen 81; }\n")
    os.chmod(remote / "nginx.conf", 0o640)
    return remote


def test_collect_over_ssh_and_restore_atomically(
    dk: Drkit,
    tmp_path: Path,
    sshd: SshServer,
) -> None:
    remote = _remote_tree(tmp_path)
    _settings(dk, sshd, remote)
    first = dk.json("config", "collect")
    names = {f["name"]: f["status"] for f in first["sources"][0]["files"]}
    assert names == {
        f"web1:{remote}/nginx.conf": "new",
        f"web1:{remote}/conf.d/a.conf": "new",
        f"web1:{remote}/conf.d/b.conf": "new",
    }
    at = utcnow().isoformat()
    (remote / "nginx.conf").write_text("worker_processes 8;\nssl_password_file /x;\n")
    second = dk.json("config", "collect")
    statuses = sorted(f["status"] for f in second["sources"][0]["files"])
    assert statuses == ["changed", "unchanged", "unchanged"]
    history = dk.json("config", "log", f"web1:{remote}/nginx.conf")
    assert len(history) == 2 and history[0]["mode"] == "0640"

    inode = os.stat(remote / "nginx.conf").st_ino
    dk("config", "restore", "--at", at, f"web1:{remote}/nginx.conf", "--yes").check()
    assert (remote / "nginx.conf").read_text() == "worker_processes 2;\nssl_password_file /x;\n"
    assert os.stat(remote / "nginx.conf").st_ino != inode  # a new file renamed over the old
    assert stat.S_IMODE(os.stat(remote / "nginx.conf").st_mode) == 0o640
    assert not [p for p in remote.iterdir() if p.name.startswith(".drkit-restore-")]
    restored = dk.json("config", "log", f"web1:{remote}/nginx.conf")
    assert restored[0]["message"].startswith("restored version #")


def test_an_unknown_host_key_fails_the_collection_naming_the_host(
    dk: Drkit,
    tmp_path: Path,
    sshd: SshServer,
) -> None:
    remote = _remote_tree(tmp_path)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    _settings(dk, sshd, remote, known_hosts=empty)
    done = dk("config", "collect")
    assert done.returncode == 52
    assert "web1: cannot connect" in done.stderr and "is not in" in done.stderr
    assert dk.json("config", "log", "drkit")  # drkit's own configuration still collected


def test_an_unreachable_host_fails_the_collection_naming_the_host(
    dk: Drkit,
    tmp_path: Path,
    sshd: SshServer,
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    _settings(dk, sshd, _remote_tree(tmp_path), port=closed)
    done = dk("config", "collect", "--json")
    assert done.returncode == 52
    failures = [f for s in json.loads(done.stdout)["sources"] for f in s["failures"]]
    assert [f["host"] for f in failures] == ["web1"]
    assert "web1" in done.stderr and "cannot connect" in done.stderr
