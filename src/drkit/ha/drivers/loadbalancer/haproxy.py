"""The HAProxy driver, over its runtime API (``stats socket ... level admin``).

Each call opens one connection to the socket (a UNIX path, or ``host:port``),
sends one line (several commands joined by ``;``) and reads until HAProxy
closes it. State comes from ``show servers state <backend>`` (admin and
operational state, weight, address; columns looked up by the header's names)
and ``show stat`` (current sessions, last check). HAProxy answers errors in
words ("No such server.", "Permission denied"); any non-empty answer to a
``set``/``shutdown`` command is an error, translated to LoadBalancerError.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drkit.ha.drivers.errors import LoadBalancerError
from drkit.ha.drivers.loadbalancer.base import AdminState, LoadBalancer, OpState, ServerState
from drkit.plugins import Plugin

_MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40  # FMAINT IMAINT CMAINT RMAINT HMAINT
_DRAIN_BITS = 0x08 | 0x10  # FDRAIN IDRAIN
_OP = {"0": OpState.DOWN, "1": OpState.STARTING, "2": OpState.UP, "3": OpState.STOPPING}
_NAME = r"^[A-Za-z0-9_.:-]+$"


class HaproxySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["haproxy"] = "haproxy"
    socket: Path | None = Field(default=None, description="The stats socket's path.")
    address: str | None = Field(default=None, description="host:port of a TCP stats socket.")
    backend: str = Field(pattern=_NAME)
    timeout_s: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _one_target(self) -> HaproxySettings:
        if (self.socket is None) == (self.address is None):
            raise ValueError("give socket (a path) or address (host:port), one of them")
        if self.address is not None and ":" not in self.address:
            raise ValueError(f"address {self.address!r} needs host:port")
        return self


class HaproxyLoadBalancer(LoadBalancer):
    def __init__(self, settings: HaproxySettings) -> None:
        self.settings = settings
        self.backend = settings.backend

    @property
    def where(self) -> str:
        return str(self.settings.socket or self.settings.address)

    def command(self, *commands: str) -> str:
        """Send the commands (joined by ``;``) and return HAProxy's whole answer."""
        line = ";".join(commands) + "\n"
        try:
            with self._connect() as conn:
                conn.sendall(line.encode())
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
        except TimeoutError as exc:
            raise LoadBalancerError(
                f"HAProxy at {self.where} did not answer within {self.settings.timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise LoadBalancerError(
                f"cannot reach HAProxy's runtime API at {self.where}: {exc.strerror or exc}",
                hint="check `stats socket` in haproxy.cfg and that HAProxy runs",
            ) from exc
        return b"".join(chunks).decode(errors="replace")

    def _connect(self) -> socket.socket:
        timeout = self.settings.timeout_s
        if self.settings.socket is not None:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(timeout)
            try:
                conn.connect(str(self.settings.socket))
            except OSError:
                conn.close()
                raise
            return conn
        assert self.settings.address is not None
        host, port = self.settings.address.rsplit(":", 1)
        return socket.create_connection((host, int(port)), timeout=timeout)

    def servers(self) -> list[ServerState]:
        state = self.command(f"show servers state {self.backend}")
        stats = _stat_rows(self.command(f"show stat {self.backend} 4 -1"), self.backend)
        return [_server(row, stats.get(row["srv_name"], {})) for row in _state_rows(state, self)]

    def _one(self, server: str) -> ServerState:
        for found in self.servers():
            if found.name == server:
                return found
        raise LoadBalancerError(f"backend {self.backend} has no server {server!r}")

    def _set(self, server: str, command: str) -> None:
        if not _valid_name(server):
            raise LoadBalancerError(f"bad server name {server!r}")
        answer = self.command(command).strip()
        if answer:
            known = ", ".join(s.name for s in self.servers()) if "No such" in answer else ""
            raise LoadBalancerError(
                f"HAProxy refused `{command}`: {answer}",
                hint=f"servers of backend {self.backend}: {known}"
                if known
                else "the stats socket needs `level admin`",
            )

    def set_state(self, server: str, state: AdminState) -> ServerState:
        self._set(server, f"set server {self.backend}/{server} state {state.value}")
        return self._one(server)

    def set_weight(self, server: str, weight: int) -> ServerState:
        if not 0 <= weight <= 256:
            raise LoadBalancerError(f"weight {weight} is outside 0-256")
        self._set(server, f"set server {self.backend}/{server} weight {weight}")
        return self._one(server)

    def shutdown_sessions(self, server: str) -> int:
        before = next((s.sessions for s in self.servers() if s.name == server), None)
        self._set(server, f"shutdown sessions server {self.backend}/{server}")
        return before or 0


def _valid_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "_.:-" for c in name)


def _state_rows(text: str, lb: HaproxyLoadBalancer) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.strip()]
    header = next((line for line in lines if line.startswith("# be_id")), None)
    if header is None:
        raise LoadBalancerError(
            f"HAProxy at {lb.where}: `show servers state {lb.backend}`: {text.strip()[:200]}",
            hint=f"check that backend {lb.backend} exists in haproxy.cfg",
        )
    names = header[2:].split()
    rows = [
        dict(zip(names, line.split(), strict=False)) for line in lines[lines.index(header) + 1 :]
    ]
    return [row for row in rows if row.get("be_name") == lb.backend]


def _stat_rows(text: str, backend: str) -> dict[str, dict[str, str]]:
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# pxname"):
        return {}
    names = lines[0][2:].split(",")
    rows = [dict(zip(names, line.split(","), strict=False)) for line in lines[1:] if line]
    return {r["svname"]: r for r in rows if r.get("pxname") == backend}


def _server(row: dict[str, str], stat: dict[str, str]) -> ServerState:
    admin_bits = int(row.get("srv_admin_state", "0"))
    if admin_bits & _MAINT_BITS:
        admin = AdminState.MAINT
    elif admin_bits & _DRAIN_BITS:
        admin = AdminState.DRAIN
    else:
        admin = AdminState.READY
    port = row.get("srv_port", "")
    sessions = stat.get("scur", "")
    return ServerState(
        backend=row["be_name"],
        name=row["srv_name"],
        address=row.get("srv_addr", ""),
        port=int(port) if port.isdigit() else None,
        admin=admin,
        op=_OP.get(row.get("srv_op_state", ""), OpState.DOWN),
        weight=int(row.get("srv_uweight", "0")),
        sessions=int(sessions) if sessions.isdigit() else None,
        check=stat.get("check_status", ""),
    )


PLUGIN = Plugin("haproxy", HaproxySettings, HaproxyLoadBalancer, "HAProxy runtime API")
