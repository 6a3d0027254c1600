"""postgres.* runbook actions against a real PostgreSQL 15 primary and streaming replica."""

from __future__ import annotations

import pytest

from drkit.runbooks.errors import ActionFailed
from tests.fixtures.ha import PgPair
from tests.fixtures.ha_context import FakeContext, args_of, run_action


def server(node: object, **extra: object) -> dict[str, object]:
    return {"host": node.host, "port": node.port, **extra}  # type: ignore[attr-defined]


# -- postgres.check_primary ------------------------------------------------------------------


def test_check_primary_up_passes_on_the_primary_and_fails_on_the_replica(pg_pair: PgPair) -> None:
    result = run_action("postgres.check_primary", **server(pg_pair.primary))
    assert result.outputs["state"] == "primary"
    assert result.outputs["reachable"] == "true"
    assert result.outputs["server_version"].startswith("PostgreSQL 15")

    with pytest.raises(ActionFailed, match="in recovery"):
        run_action("postgres.check_primary", **server(pg_pair.replica))


def test_expect_down_refuses_to_fail_over_a_healthy_primary(pg_pair: PgPair) -> None:
    with pytest.raises(ActionFailed, match="up and accepts writes: not failing over") as caught:
        run_action("postgres.check_primary", **server(pg_pair.primary, expect="down"))
    assert "switchover" in caught.value.hint


def test_expect_down_confirms_a_stopped_primary_over_several_probes(pg_pair: PgPair) -> None:
    pg_pair.primary.stop("immediate")
    ctx = FakeContext()
    result = run_action(
        "postgres.check_primary",
        ctx,
        **server(pg_pair.primary, expect="down", attempts=3, interval_s=0.05, connect_timeout_s=2),
    )
    assert result.outputs["state"] == "unreachable"
    assert result.outputs["reachable"] == "false"
    assert "connect" in result.outputs["error"]
    assert [line.split(":")[0] for line in ctx.lines] == ["probe 1", "probe 2", "probe 3"]


def test_expect_up_names_the_unreachable_server(pg_pair: PgPair) -> None:
    pg_pair.primary.stop("immediate")
    with pytest.raises(ActionFailed, match=f"{pg_pair.primary.address} is unreachable"):
        run_action("postgres.check_primary", **server(pg_pair.primary))


# -- postgres.promote -------------------------------------------------------------------------


def _write_on_primary(pair: PgPair) -> None:
    pair.primary.query("create table orders (id int primary key, item text)")
    pair.primary.query("insert into orders values (1, 'before failover')")
    pair.wait_replicated()


def test_promote_over_sql_makes_the_replica_writable_and_keeps_the_data(pg_pair: PgPair) -> None:
    _write_on_primary(pg_pair)
    pg_pair.primary.stop("immediate")
    result = run_action("postgres.promote", **server(pg_pair.replica, wait_s=30))

    assert result.outputs["promoted"] == "true"
    assert result.outputs["timeline"] == "2"  # promotion starts a new timeline
    assert not pg_pair.replica.in_recovery()
    pg_pair.replica.query("insert into orders values (2, 'after failover')")
    assert pg_pair.replica.query("select item from orders order by id") == [
        ("before failover",),
        ("after failover",),
    ]


def test_promote_is_idempotent_on_a_primary(pg_pair: PgPair) -> None:
    run_action("postgres.promote", **server(pg_pair.replica))
    ctx = FakeContext()
    again = run_action("postgres.promote", ctx, **server(pg_pair.replica))
    assert again.outputs["promoted"] == "false"
    assert any("already a primary" in line for line in ctx.lines)


def test_promote_with_pg_ctl_as_the_data_directory_owner(pg_pair: PgPair) -> None:
    # the tests run as root: the action must switch to the owner (postgres) for pg_ctl
    result = run_action(
        "postgres.promote",
        **server(pg_pair.replica, method="pg_ctl", data_dir=str(pg_pair.replica.data_dir)),
    )
    assert result.outputs["promoted"] == "true"
    assert not pg_pair.replica.in_recovery()
    pg_pair.replica.query("create table written_after_promote (x int)")


def test_promote_fails_clearly_when_the_replica_is_down(pg_pair: PgPair) -> None:
    pg_pair.replica.stop("immediate")
    with pytest.raises(ActionFailed, match="cannot connect to PostgreSQL") as caught:
        run_action("postgres.promote", **server(pg_pair.replica, connect_timeout_s=2))
    assert "pg_hba.conf" in caught.value.hint


def test_promote_pg_ctl_needs_a_data_dir() -> None:
    with pytest.raises(ValueError, match="pg_ctl needs data_dir"):
        args_of("postgres.promote", host="127.0.0.1", method="pg_ctl")


# -- postgres.replication_lag -------------------------------------------------------------------


def test_lag_is_zero_once_the_replica_caught_up(pg_pair: PgPair) -> None:
    _write_on_primary(pg_pair)
    result = run_action(
        "postgres.replication_lag",
        **server(
            pg_pair.replica,
            primary_host=pg_pair.primary.host,
            primary_port=pg_pair.port,
            max_bytes=0,
        ),
    )
    assert result.outputs["bytes"] == "0"
    assert result.outputs["measured_against"] == "primary"
    assert result.outputs["replay_lsn"] == result.outputs["receive_lsn"]


def test_lag_gate_fails_while_replay_is_paused(pg_pair: PgPair) -> None:
    pg_pair.replica.query("select pg_wal_replay_pause()")
    pg_pair.primary.query("create table big as select generate_series(1, 20000) as n")
    pg_pair.primary.query("select pg_switch_wal()")
    with pytest.raises(ActionFailed, match=r"bytes behind, more than max_bytes 1000"):
        run_action(
            "postgres.replication_lag",
            **server(
                pg_pair.replica,
                primary_host=pg_pair.primary.host,
                primary_port=pg_pair.port,
                max_bytes=1000,
            ),
        )


def test_lag_without_the_primary_measures_on_the_replica(pg_pair: PgPair) -> None:
    _write_on_primary(pg_pair)
    pg_pair.primary.stop("immediate")
    ctx = FakeContext()
    result = run_action(
        "postgres.replication_lag",
        ctx,
        **server(
            pg_pair.replica,
            primary_host=pg_pair.primary.host,
            primary_port=pg_pair.port,
            connect_timeout_s=1,
        ),
    )
    assert result.outputs["measured_against"] == "replica"
    assert result.outputs["bytes"] == "0"
    assert result.outputs["last_replay_at"]  # when the newest replayed transaction committed
    assert any("not measured" in line for line in ctx.lines)


def test_lag_on_a_primary_is_an_error(pg_pair: PgPair) -> None:
    with pytest.raises(ActionFailed, match="not a replica"):
        run_action("postgres.replication_lag", **server(pg_pair.primary))
