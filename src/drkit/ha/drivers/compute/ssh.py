"""The ``ssh`` compute driver: start, stop and status run on the app host over SSH (paramiko).

The host key must be in ``known_hosts`` (unknown or changed keys are refused,
never added). Commands are shell lines run by the remote user's shell, with
the same exit-code meaning as the ``command`` driver. A start command that
leaves a daemon must detach it from the session (``nohup ... >/dev/null 2>&1 &``),
or the channel stays open until ``timeout_s``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import paramiko
from pydantic import BaseModel, ConfigDict, Field

from drkit.ha.drivers.compute.base import Compute, ComputeStatus
from drkit.ha.drivers.compute.command import Ran, settle
from drkit.ha.drivers.errors import ComputeError
from drkit.plugins import Plugin


class SshComputeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["ssh"] = "ssh"
    name: str = "app"
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    user: str
    key_file: Path
    known_hosts: Path
    start: str = Field(min_length=1)
    stop: str = Field(min_length=1)
    status: str = Field(min_length=1)
    connect_timeout_s: float = Field(default=10, gt=0, le=300)
    timeout_s: float = Field(default=60, gt=0, le=3600)
    wait_s: float = Field(default=30, ge=0, le=3600)


class SshCompute(Compute):
    def __init__(self, settings: SshComputeSettings) -> None:
        self.settings = settings
        self.name = settings.name

    @property
    def where(self) -> str:
        s = self.settings
        return f"{s.user}@{s.host}:{s.port}"

    def _client(self) -> paramiko.SSHClient:
        s = self.settings
        client = paramiko.SSHClient()
        try:
            client.load_host_keys(str(s.known_hosts))
        except OSError as exc:
            raise ComputeError(f"cannot read known_hosts {s.known_hosts}: {exc.strerror}") from exc
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                s.host,
                port=s.port,
                username=s.user,
                key_filename=str(s.key_file),
                timeout=s.connect_timeout_s,
                banner_timeout=s.connect_timeout_s,
                auth_timeout=s.connect_timeout_s,
                allow_agent=False,
                look_for_keys=False,
            )
        except paramiko.SSHException as exc:
            client.close()
            raise ComputeError(
                f"{self.name}: SSH to {self.where} failed: {exc}",
                hint="the host key must be in known_hosts and the key must be authorized",
            ) from exc
        except OSError as exc:
            client.close()
            raise ComputeError(f"{self.name}: cannot reach {self.where}: {exc}") from exc
        return client

    def run(self, command: str) -> Ran:
        client = self._client()
        try:
            _, stdout, _ = client.exec_command(command, timeout=self.settings.timeout_s)
            stdout.channel.set_combine_stderr(True)
            output = stdout.read().decode(errors="replace").strip()[-1000:]
            return Ran(stdout.channel.recv_exit_status(), output)
        except TimeoutError as exc:
            raise ComputeError(
                f"{self.name}: `{command}` on {self.where} did not finish within "
                f"{self.settings.timeout_s:g} s"
            ) from exc
        except (paramiko.SSHException, OSError) as exc:
            raise ComputeError(f"{self.name}: `{command}` on {self.where} failed: {exc}") from exc
        finally:
            client.close()

    def status(self) -> ComputeStatus:
        ran = self.run(self.settings.status)
        if ran.code in (126, 127) or ran.code < 0:
            raise ComputeError(f"{self.name}: status command failed ({ran.code}): {ran.output}")
        return ComputeStatus(ran.code == 0, ran.output or f"exit {ran.code}")

    def _act(self, command: str, want: bool, what: str) -> None:
        if self.status().running is want:
            return
        ran = self.run(command)
        if ran.code != 0:
            raise ComputeError(
                f"{self.name}: {what} on {self.where} exited {ran.code}: {ran.output}"
            )
        settle(self, want, self.settings.wait_s, what)

    def start(self) -> None:
        self._act(self.settings.start, True, "start")

    def stop(self) -> None:
        self._act(self.settings.stop, False, "stop")


PLUGIN = Plugin("ssh", SshComputeSettings, SshCompute, "start/stop commands over SSH")
