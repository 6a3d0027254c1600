"""The agent's /metrics text: replication per replica and slot, served over HTTP."""

from __future__ import annotations

import httpx

from drkit.ha.drivers.database.base import DatabaseState, ReplicaRow, SlotRow
from drkit.ha.metrics import render, serve_metrics

PRIMARY = DatabaseState(
    reachable=True,
    in_recovery=False,
    timeline=2,
    current_lsn=5000,
    replicas=(
        ReplicaRow("west", "127.0.0.3", "streaming", "sync", 5000, 4000, 1000, 0.25),
        ReplicaRow("west2", None, "catchup", "async", 10, 10, 4990, None),
    ),
    slots=(SlotRow("west", True, 4000, 1000),),
)


def test_primary_metrics() -> None:
    text = render("shop", "east", PRIMARY, leader=True)
    assert 'drkit_ha_leader{cluster="shop",site="east"} 1' in text
    assert 'drkit_ha_database_primary{cluster="shop",site="east"} 1' in text
    west = 'cluster="shop",site="east",replica="west",sync_state="sync"'
    assert f"drkit_ha_replica_lag_bytes{{{west}}} 1000" in text
    assert f"drkit_ha_replica_lag_seconds{{{west}}} 0.25" in text
    assert f"drkit_ha_replica_streaming{{{west}}} 1" in text
    west2 = 'cluster="shop",site="east",replica="west2",sync_state="async"'
    assert f"drkit_ha_replica_streaming{{{west2}}} 0" in text
    assert (
        'drkit_ha_slot_retained_bytes{cluster="shop",site="east",slot="west",active="true"} 1000'
        in text
    )


def test_replica_and_down_metrics() -> None:
    replica = DatabaseState(
        reachable=True, in_recovery=True, current_lsn=10, lag_bytes=7, lag_s=1.5, streaming=False
    )
    text = render("shop", "west", replica, leader=False)
    assert 'drkit_ha_receiver_streaming{cluster="shop",site="west"} 0' in text
    assert 'drkit_ha_replay_lag_bytes{cluster="shop",site="west"} 7' in text
    down = render("shop", "west", DatabaseState(reachable=False, error="refused"), leader=False)
    assert 'drkit_ha_database_up{cluster="shop",site="west"} 0' in down
    assert "replica_lag" not in down


def test_served_on_metrics() -> None:
    server = serve_metrics("127.0.0.1", 0, lambda: render("c", "s", PRIMARY, leader=False))
    try:
        port = server.server_address[1]
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'drkit_ha_leader{cluster="c",site="s"} 0' in body
        assert httpx.get(f"http://127.0.0.1:{port}/other", timeout=5).status_code == 404
    finally:
        server.shutdown()
        server.server_close()
