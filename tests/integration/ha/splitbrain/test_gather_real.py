"""gather() + detect() on real parts: a PostgreSQL pair promoted behind the agents' back, Knot."""

from __future__ import annotations

from drkit.ha.drivers.database.postgres import PostgresDatabase, PostgresSettings
from drkit.ha.drivers.dns.base import DnsRecord
from drkit.ha.drivers.dns.rfc2136 import Rfc2136Dns, Rfc2136Settings
from drkit.ha.splitbrain.detect import Kind, detect
from drkit.ha.splitbrain.divergence import divergence, parse_lsn
from drkit.ha.splitbrain.facts import Reachability
from drkit.ha.splitbrain.gather import Parts, gather
from tests.fixtures.ha import KnotServer, PgNode, PgPair


def _db(node: PgNode) -> PostgresDatabase:
    return PostgresDatabase(
        PostgresSettings(name=node.name, host=node.host, port=node.port, data_dir=node.data_dir)
    )


def test_replica_promoted_without_stopping_the_primary_is_two_primaries(
    pg_pair: PgPair,
) -> None:
    parts = Parts(
        sites=("east", "west"),
        witnesses=("witness",),
        databases={"east": _db(pg_pair.primary), "west": _db(pg_pair.replica)},
    )
    assert detect(gather(parts, leader="east", reach=Reachability())) == []

    pg_pair.replica.query("select pg_promote(true, 60)")
    pg_pair.primary.query("create table after_fork (n int); insert into after_fork values (1)")

    facts = gather(parts, leader="east", reach=Reachability())
    (state,) = detect(facts)
    assert state.kind is Kind.TWO_PRIMARIES
    evidence = dict(state.evidence)
    assert evidence["east"].startswith("writable, timeline 1, lsn ")
    assert evidence["west"].startswith("writable, timeline 2, lsn ")

    (history,) = pg_pair.replica.query("select pg_read_file('pg_wal/00000002.history')")[0]
    (end,) = pg_pair.primary.query("select pg_current_wal_insert_lsn()::text")[
        0
    ]  # async commit: written may lag
    report = divergence(
        old_site="east",
        old_timeline=1,
        old_end_lsn=parse_lsn(end),
        new_site="west",
        new_timeline=2,
        new_history=history,
    )
    assert report.diverged, report.sentence()
    assert "timeline 1 from" in report.sentence()


def test_a_down_database_is_not_a_primary(pg_pair: PgPair) -> None:
    parts = Parts(sites=("east", "west"), databases={"east": _db(pg_pair.primary)})
    pg_pair.primary.stop("immediate")
    (fact,) = gather(parts, leader="east", reach=Reachability()).databases
    assert not fact.reachable and not fact.writable and fact.error


def test_dns_pointing_at_the_non_elected_site_is_divergent(knot: KnotServer) -> None:
    dns = Rfc2136Dns(
        Rfc2136Settings(
            servers=[knot.address], key_name=knot.key_name, key_secret_file=knot.secret_file
        )
    )
    record = DnsRecord(knot.zone, "db")
    parts = Parts(
        sites=("east", "west"),
        dns=dns,
        records=(record,),
        dns_values={"east": ("127.0.0.2",), "west": ("127.0.0.3",)},
    )
    assert detect(gather(parts, leader="east", reach=Reachability())) == []

    dns.replace(record, ["127.0.0.3"], 60)  # by hand, to the site that is not elected

    (state,) = detect(gather(parts, leader="east", reach=Reachability()))
    assert state.kind is Kind.DIVERGENT_DNS
    assert state.evidence == ((knot.address, "127.0.0.3"),)
    assert detect(gather(parts, leader="west", reach=Reachability())) == []
