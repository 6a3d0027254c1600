"""The etcd v3 DCS driver, over etcd's JSON gateway (Patroni's etcd3 driver is the model).

One lease per client: granted on first need, kept alive by every call that
writes under it, revoked by ``close``. The leader key is created in a
transaction comparing its ``create_revision`` with 0 (absent), refreshed by a
transaction comparing its value and lease with ours, and released by one
that deletes it only under the same comparison; so two agents never both
believe they lead. ``read`` is one range over the cluster prefix (one
revision) plus the leader lease's time to live.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from drkit.ha.drivers.dcs.base import (
    DCS,
    ClusterView,
    DcsSettingsBase,
    Leader,
    Record,
    check_kind,
    check_site,
)
from drkit.ha.drivers.dcs.etcd3_client import EtcdClient, Json, b64, num, prefix_end, unb64
from drkit.ha.drivers.dcs.etcd3_watch import KeyWatch
from drkit.ha.drivers.errors import DCSError, DCSUnavailable
from drkit.plugins import Plugin
from drkit.secrets import read_secret


class Etcd3Settings(DcsSettingsBase):
    type: Literal["etcd3"] = "etcd3"
    endpoints: list[str] = Field(min_length=1, description="http(s)://host:port of members.")
    request_timeout_s: float = Field(default=2.0, gt=0, le=60)
    retry_timeout_s: float = Field(
        default=3.0, ge=0, le=300, description="Go on trying the endpoints this long."
    )
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Etcd3Settings:
        for endpoint in self.endpoints:
            if not endpoint.startswith(("http://", "https://")):
                raise ValueError(f"endpoint {endpoint!r} needs http:// or https://")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        has_password = self.password_env is not None or self.password_file is not None
        if (self.username is None) == has_password:
            raise ValueError("username needs password_env or password_file, and they need it")
        return self


def _password(settings: Etcd3Settings) -> str | None:
    """The etcd password from its variable or file (drkit.secrets' one rule), or None."""
    return read_secret(
        "the etcd password", env=settings.password_env, file=settings.password_file, error=DCSError
    )


def _tls(settings: Etcd3Settings) -> ssl.SSLContext | None:
    if settings.ca_file is None and settings.cert_file is None:
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if settings.cert_file is not None and settings.key_file is not None:
            context.load_cert_chain(str(settings.cert_file), str(settings.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise DCSError(f"cannot load the etcd TLS files: {exc}") from exc
    return context


def _load(value: bytes) -> Record:
    try:
        loaded = json.loads(value)
    except ValueError:
        return {"invalid": value.decode(errors="replace")}
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def _dump(record: Record) -> str:
    return b64(json.dumps(record, sort_keys=True, separators=(",", ":")))


class Etcd3DCS(DCS):
    def __init__(self, client: EtcdClient, cluster: str, ttl_s: int) -> None:
        self.client = client
        self.cluster = cluster
        self.ttl_s = ttl_s
        self.prefix = f"/drkit/{cluster}/"
        self.lease: str | None = None
        self._lease_deadline = 0.0
        self._watches: list[KeyWatch] = []

    # --- the lease -------------------------------------------------------------

    def _alive_lease(self) -> str:
        if self.lease is not None:  # etcd's answer, not our clock, says if it lives
            started = time.monotonic()
            if self._keepalive(self.lease) > 0:
                self._lease_deadline = started + self.ttl_s
                return self.lease
        started = time.monotonic()
        granted = self.client.post("lease/grant", {"TTL": self.ttl_s})
        self.lease = str(granted["ID"])
        self._lease_deadline = started + num(granted.get("TTL"))
        return self.lease

    def _keepalive(self, lease: str) -> int:
        """The lease's TTL after a keep-alive; 0 when etcd no longer knows it."""
        try:
            answer = self.client.post("lease/keepalive", {"ID": lease})
        except DCSUnavailable:
            raise
        except DCSError:
            return 0  # "requested lease not found"
        return num(answer.get("result", {}).get("TTL"))

    # --- reading ----------------------------------------------------------------

    def read(self) -> ClusterView:
        answer = self.client.post(
            "kv/range", {"key": b64(self.prefix), "range_end": prefix_end(self.prefix)}
        )
        revision = num(answer.get("header", {}).get("revision"))
        view: dict[str, Any] = {"published": {}, "history": []}
        for kv in answer.get("kvs", []):
            self._place(view, kv)
        history = [record for _, record in sorted(view.pop("history"), key=lambda h: h[0])]
        return ClusterView(cluster=self.cluster, revision=revision, history=tuple(history), **view)

    def _place(self, view: dict[str, Any], kv: Json) -> None:
        rest = unb64(kv.get("key")).decode()[len(self.prefix) :]
        value = unb64(kv.get("value"))
        if rest == "leader":
            lease = str(kv.get("lease", "0"))
            view["leader"] = Leader(
                value.decode(), lease, num(kv.get("mod_revision")), self._time_to_live(lease)
            )
        elif rest == "pause":
            view["pause"] = _load(value)
        elif rest == "sync":
            view["sync"] = _load(value)
        elif rest == "config":
            view["config"] = _load(value)
            view["config_revision"] = num(kv.get("mod_revision"))
        elif rest.startswith("history/"):
            view["history"].append((num(kv.get("create_revision")), _load(value)))
        elif "/" in rest:
            kind, site = rest.split("/", 1)
            view["published"].setdefault(kind, {})[site] = _load(value)

    def _time_to_live(self, lease: str) -> float | None:
        answer = self.client.post("lease/timetolive", {"ID": lease})
        ttl = num(answer.get("TTL"))
        return float(ttl) if ttl > 0 else None

    # --- the leader key ----------------------------------------------------------

    def _txn(self, compare: list[Json], success: list[Json], failure: list[Json]) -> Json:
        return self.client.post(
            "kv/txn", {"compare": compare, "success": success, "failure": failure}
        )

    def _ours(self, site: str, lease: str) -> list[Json]:
        key = b64(self.prefix + "leader")
        return [
            {"key": key, "target": "VALUE", "result": "EQUAL", "value": b64(site)},
            {"key": key, "target": "LEASE", "result": "EQUAL", "lease": lease},
        ]

    def acquire_leader(self, site: str) -> bool:
        check_site(site)
        lease = self._alive_lease()
        key = b64(self.prefix + "leader")
        answer = self._txn(
            [{"key": key, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}],
            [{"request_put": {"key": key, "value": b64(site), "lease": lease}}],
            [],
        )
        if answer.get("succeeded"):
            return True
        return self.refresh_leader(site)

    def refresh_leader(self, site: str) -> bool:
        lease = self._alive_lease()
        return bool(self._txn(self._ours(site, lease), [], []).get("succeeded"))

    def release_leader(self, site: str) -> None:
        if self.lease is None:
            return
        key = b64(self.prefix + "leader")
        self._txn(self._ours(site, self.lease), [{"request_delete_range": {"key": key}}], [])

    def set_sync(self, site: str, record: Record) -> bool:
        if self.lease is None:
            return False
        key = b64(self.prefix + "sync")
        answer = self._txn(
            self._ours(site, self.lease),
            [{"request_put": {"key": key, "value": _dump(record)}}],
            [],
        )
        return bool(answer.get("succeeded"))

    # --- records ------------------------------------------------------------------

    def publish(self, site: str, kind: str, payload: Record) -> None:
        check_kind(kind)
        check_site(site)
        lease = self._alive_lease()
        key = b64(f"{self.prefix}{kind}/{site}")
        self.client.post("kv/put", {"key": key, "value": _dump(payload), "lease": lease})

    def set_pause(self, record: Record | None) -> None:
        key = b64(self.prefix + "pause")
        if record is None:
            self.client.post("kv/deleterange", {"key": key})
        else:
            self.client.post("kv/put", {"key": key, "value": _dump(record)})

    def append_history(self, record: Record) -> None:
        name = f"{self.prefix}history/{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self.client.post("kv/put", {"key": b64(name), "value": _dump(record)})

    def set_config(self, config: Record, *, expected_revision: int) -> bool:
        key = b64(self.prefix + "config")
        answer = self._txn(
            [
                {
                    "key": key,
                    "target": "MOD",
                    "result": "EQUAL",
                    "mod_revision": str(expected_revision),
                }
            ],
            [{"request_put": {"key": key, "value": _dump(config)}}],
            [],
        )
        return bool(answer.get("succeeded"))

    def watch_leader(self, on_change: Callable[[], None]) -> Callable[[], None]:
        watch = KeyWatch(self.client, self.prefix + "leader", on_change).start()
        self._watches.append(watch)
        return watch.stop

    def close(self) -> None:
        for watch in self._watches:
            watch.stop()
        try:
            if self.lease is not None:
                self.client.post("lease/revoke", {"ID": self.lease})
        except DCSError:
            pass  # it expires by itself within ttl_s
        finally:
            self.lease = None
            self.client.close()


def build(settings: Etcd3Settings) -> Etcd3DCS:
    client = EtcdClient(
        list(settings.endpoints),
        timeout_s=settings.request_timeout_s,
        retry_s=settings.retry_timeout_s,
        username=settings.username,
        password=_password(settings),
        tls=_tls(settings),
    )
    return Etcd3DCS(client, settings.cluster, settings.ttl_s)


PLUGIN = Plugin("etcd3", Etcd3Settings, build, "etcd v3 over its JSON gateway")
