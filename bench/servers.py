"""Local storage servers for the fan-out benchmark: moto (S3) and OpenSSH sshd (SFTP).

Standard library only (plus ``subprocess``), so the benchmark harness does not need
the test dependencies. The logic follows ``tests/fixtures/s3.py`` and
``tests/fixtures/sshd.py``, which cannot be imported here (they need pytest and, for
the keys, ``cryptography``; this module uses ``ssh-keygen``).

* :class:`MotoServer`: ``python -m moto.server -H 127.0.0.1 -p PORT`` with the project
  venv's interpreter; :data:`FAKE_AWS_ENV` are the credentials clients must use.
* :class:`SshServer`: ``/usr/sbin/sshd -D -e -f CONFIG`` on a free loopback port, key
  logins only, ``internal-sftp``, with a generated host key, client key and a
  ``known_hosts`` file that trusts the host key.

Both record the CPU time they used (:meth:`cpu_s`), so the benchmark can show how much
of the machine the servers took while a tool was measured.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = "ssh-keygen"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "drkit-bench-key",
    "AWS_SECRET_ACCESS_KEY": "drkit-bench-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/drkit-bench-aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/drkit-bench-aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
# Anything that could send a client to real AWS or to other credentials.
AWS_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def sshd_config(host: str, port: int, host_key: Path, pid_file: Path, authorized: Path) -> str:
    """An sshd_config for a loopback SFTP server with key authentication only.

    Shared with the SFTP test fixture (tests/fixtures/sshd.py), so the benchmark
    and the tests run the same server setup.
    """
    return "\n".join(
        [
            f"Port {port}",
            f"ListenAddress {host}",
            f"HostKey {host_key}",
            f"PidFile {pid_file}",
            f"AuthorizedKeysFile {authorized}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "StrictModes no",
            "Subsystem sftp internal-sftp",
            "",
        ]
    )


class ServerError(RuntimeError):
    """A server could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and of its children it has reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_S)


@dataclass
class ObjectUsage:
    """Objects under a bucket prefix: count and total size."""

    objects: int
    bytes: int


class MotoServer:
    """moto's S3 server on 127.0.0.1 (in memory); use as a context manager."""

    def __init__(self, python: Path, log: Path) -> None:
        self.python = python
        self.log = log
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_s(self) -> float:
        return process_cpu_s(self.pid)

    def __enter__(self) -> MotoServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        argv = [str(self.python), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            self._wait_ready()
        except BaseException:
            _stop(self.proc)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"moto exited with {self.proc.returncode}:\n{_tail(self.log)}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1) as rsp,
            ):
                if rsp.status == 200:
                    return
            time.sleep(0.05)
        raise ServerError(f"moto did not answer within {START_TIMEOUT_S:.0f} s:\n{_tail(self.log)}")

    def usage(self, bucket: str, prefix: str = "") -> ObjectUsage:
        """Count and total size of the objects under ``prefix`` (ListObjectsV2).

        moto does not check signatures by default, so a plain unsigned GET is enough.
        """
        usage = ObjectUsage(0, 0)
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
            if token:
                query["continuation-token"] = token
            url = f"{self.endpoint}/{bucket}?{urlencode(query)}"
            with urllib.request.urlopen(url, timeout=60) as rsp:
                root = ET.fromstring(rsp.read())
            for item in root.iter(f"{_S3_NS}Contents"):
                usage.objects += 1
                usage.bytes += int(item.findtext(f"{_S3_NS}Size", "0"))
            if root.findtext(f"{_S3_NS}IsTruncated", "false") != "true":
                return usage
            token = root.findtext(f"{_S3_NS}NextContinuationToken")


def write_ed25519_key(private: Path, comment: str) -> str:
    """Create an unencrypted OpenSSH ed25519 key pair with ssh-keygen; return the
    public key line (``ssh-ed25519 AAAA... comment``)."""
    private.unlink(missing_ok=True)
    private.with_name(private.name + ".pub").unlink(missing_ok=True)
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return private.with_name(private.name + ".pub").read_text().strip()


class SshServer:
    """OpenSSH's sshd on a free loopback port; use as a context manager.

    The current user may log in with :attr:`key`; :attr:`known_hosts` trusts the host
    key. Session processes are children of the listener, so :meth:`cpu_s` (which counts
    reaped children) includes every finished SFTP session.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.host = "127.0.0.1"
        self.user = getpass.getuser()
        self.key = folder / "client_ed25519"
        self.known_hosts = folder / "known_hosts"
        self.log = folder / "sshd.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_s(self) -> float:
        return process_cpu_s(self.pid)

    def session_pids(self) -> list[int]:
        """Processes sshd started for connections (all descendants of the listener)."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], list(children.get(self.pid, []))
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def url(self, path: Path) -> str:
        """drkit's ``sftp://USER@HOST:PORT/PATH?key=...&known_hosts=...``."""
        query = urlencode(
            {"key": str(self.key), "known_hosts": str(self.known_hosts)}, quote_via=quote
        )
        return f"sftp://{self.user}@{self.host}:{self.port}{quote(str(path))}?{query}"

    def ssh_command(self) -> str:
        """An OpenSSH client command line for ``sftp.command`` (restic)."""
        return (
            f"ssh -F /dev/null -p {self.port} -i {self.key} -o IdentitiesOnly=yes"
            f" -o BatchMode=yes -o UserKnownHostsFile={self.known_hosts}"
            f" -o StrictHostKeyChecking=yes {self.user}@{self.host} -s sftp"
        )

    def __enter__(self) -> SshServer:
        if not os.access(SSHD, os.X_OK):
            raise ServerError(f"{SSHD} is missing: apt-get install openssh-server")
        self.folder.mkdir(parents=True, exist_ok=True)
        host_key = self.folder / "host_ed25519"
        host_public = write_ed25519_key(host_key, "drkit-bench-host")
        authorized = self.folder / "authorized_keys"
        authorized.write_text(write_ed25519_key(self.key, "drkit-bench-client") + "\n")
        subprocess.run(["mkdir", "-m0755", "-p", "/run/sshd"], check=False)
        for _attempt in range(3):
            self.port = free_port()
            config = self._write_config(host_key, authorized)
            with self.log.open("wb") as out:
                self.proc = subprocess.Popen(
                    [str(SSHD), "-D", "-e", "-f", str(config)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_for_banner():
                break
            if "Address already in use" not in self.log.read_text(errors="replace"):
                raise ServerError(f"sshd exited at start:\n{_tail(self.log)}")
        else:
            raise ServerError(f"sshd found no free port:\n{_tail(self.log)}")
        self.known_hosts.write_text(f"[{self.host}]:{self.port} {host_public}\n")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def _write_config(self, host_key: Path, authorized: Path) -> Path:
        config = self.folder / "sshd_config"
        config.write_text(
            sshd_config(self.host, self.port, host_key, self.folder / "sshd.pid", authorized)
        )
        return config

    def _wait_for_banner(self) -> bool:
        """True once sshd answers with its banner; False if it exited first."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=1) as sock,
            ):
                if sock.recv(64).startswith(b"SSH-"):
                    return True
            time.sleep(0.05)
        _stop(self.proc)
        raise ServerError(f"sshd did not answer on port {self.port}:\n{_tail(self.log)}")
