"""The agent's own Prometheus metrics: its role, its lease, and replication per replica.

Rendered from the agent's last probe (the primary sees every replica in
pg_stat_replication and its slots); served by :func:`serve_metrics` on
``/metrics``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from drkit.ha.drivers.database.base import DatabaseState


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def render(cluster: str, site: str, state: DatabaseState | None, leader: bool) -> str:
    base = f'cluster="{_esc(cluster)}",site="{_esc(site)}"'
    lines = [
        "# TYPE drkit_ha_leader gauge",
        f"drkit_ha_leader{{{base}}} {int(leader)}",
        "# TYPE drkit_ha_database_up gauge",
        f"drkit_ha_database_up{{{base}}} {int(bool(state and state.reachable))}",
    ]
    if state is None or not state.reachable:
        return "\n".join(lines) + "\n"
    lines += [
        "# TYPE drkit_ha_database_primary gauge",
        f"drkit_ha_database_primary{{{base}}} {int(state.in_recovery is False)}",
    ]
    if state.in_recovery:
        lines += [
            f"drkit_ha_receiver_streaming{{{base}}} {int(bool(state.streaming))}",
            f"drkit_ha_replay_lag_bytes{{{base}}} {state.lag_bytes or 0}",
            f"drkit_ha_replay_lag_seconds{{{base}}} {state.lag_s or 0}",
        ]
    lines += [
        "# TYPE drkit_ha_replica_lag_bytes gauge",
        "# TYPE drkit_ha_replica_lag_seconds gauge",
        "# TYPE drkit_ha_replica_streaming gauge",
    ]
    for r in state.replicas:
        labels = f'{base},replica="{_esc(r.name)}",sync_state="{_esc(r.sync_state)}"'
        lines.append(f"drkit_ha_replica_lag_bytes{{{labels}}} {r.lag_bytes or 0}")
        lines.append(f"drkit_ha_replica_lag_seconds{{{labels}}} {r.replay_lag_s or 0}")
        lines.append(f"drkit_ha_replica_streaming{{{labels}}} {int(r.state == 'streaming')}")
    lines.append("# TYPE drkit_ha_slot_retained_bytes gauge")
    for s in state.slots:
        labels = f'{base},slot="{_esc(s.name)}",active="{str(s.active).lower()}"'
        lines.append(f"drkit_ha_slot_retained_bytes{{{labels}}} {s.retained_bytes or 0}")
    return "\n".join(lines) + "\n"


def serve_metrics(host: str, port: int, text: Callable[[], str]) -> ThreadingHTTPServer:
    """Serve ``text()`` on http://host:port/metrics in a daemon thread; returns the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = text().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
