"""dns.update and dns.check against a real Knot DNS server taking TSIG-signed RFC 2136 updates."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from drkit.runbooks.errors import ActionFailed
from tests.fixtures.ha import KnotServer
from tests.fixtures.ha_context import FakeContext, args_of, run_action


def record(server: KnotServer, name: str = "db", **extra: object) -> dict[str, object]:
    return {"server": server.host, "port": server.port, "zone": server.zone, "name": name, **extra}


def signed(server: KnotServer, name: str = "db", **extra: object) -> dict[str, object]:
    return record(
        server, name, key_name=server.key_name, key_secret_file=str(server.secret_file), **extra
    )


def test_update_replaces_the_record_and_verifies_it(knot: KnotServer) -> None:
    assert knot.query("db") == {"127.0.0.2"}
    result = run_action("dns.update", **signed(knot, values=["127.0.0.3"], ttl=30))

    assert knot.query("db") == {"127.0.0.3"}
    assert result.outputs == {"previous": "127.0.0.2", "current": "127.0.0.3", "changed": "true"}


def test_update_is_idempotent(knot: KnotServer) -> None:
    run_action("dns.update", **signed(knot, values=["127.0.0.3"]))
    again = run_action("dns.update", **signed(knot, values=["127.0.0.3"]))
    assert again.outputs["changed"] == "false"
    assert knot.query("db") == {"127.0.0.3"}


def test_update_adds_a_new_name_with_several_values(knot: KnotServer) -> None:
    values = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
    result = run_action("dns.update", **signed(knot, "app", values=values))
    assert knot.query("app") == set(values)
    assert result.outputs["previous"] == ""


def test_update_of_a_cname_with_a_relative_target(knot: KnotServer) -> None:
    run_action("dns.update", **signed(knot, "www", type="CNAME", values=["db"]))
    assert knot.query("www", "CNAME") == {"db.failover.test."}


def test_secret_from_an_environment_variable(
    knot: KnotServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DDNS_SECRET", knot.secret)
    run_action(
        "dns.update",
        **record(knot, key_name=knot.key_name, key_secret_env="DDNS_SECRET", values=["127.0.0.3"]),
    )
    assert knot.query("db") == {"127.0.0.3"}


def test_if_current_guards_against_a_concurrent_change(knot: KnotServer) -> None:
    with pytest.raises(ActionFailed, match="NXRRSET") as caught:
        run_action("dns.update", **signed(knot, values=["127.0.0.3"], if_current=["127.0.0.9"]))
    assert "someone else changed it" in caught.value.hint
    assert knot.query("db") == {"127.0.0.2"}

    run_action("dns.update", **signed(knot, values=["127.0.0.3"], if_current=["127.0.0.2"]))
    assert knot.query("db") == {"127.0.0.3"}


def test_a_wrong_secret_is_reported_as_a_tsig_error(knot: KnotServer, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.secret"
    wrong.write_text(base64.b64encode(b"not the secret, not at all.....").decode())
    with pytest.raises(ActionFailed, match="rejected the TSIG signature") as caught:
        run_action(
            "dns.update",
            **record(
                knot, key_name=knot.key_name, key_secret_file=str(wrong), values=["127.0.0.3"]
            ),
        )
    assert "secret must match" in caught.value.hint
    assert knot.query("db") == {"127.0.0.2"}


def test_an_unsigned_update_is_not_authorized(knot: KnotServer) -> None:
    with pytest.raises(ActionFailed, match="NOTAUTH") as caught:
        run_action("dns.update", **record(knot, values=["127.0.0.3"]))
    assert "TSIG key" in caught.value.hint
    assert knot.query("db") == {"127.0.0.2"}


def test_a_missing_secret_file_and_a_bad_value_fail_before_sending(
    knot: KnotServer,
    tmp_path: Path,
) -> None:
    with pytest.raises(ActionFailed, match=r"the TSIG secret: the file .* does not exist"):
        run_action(
            "dns.update",
            **record(
                knot,
                key_name=knot.key_name,
                key_secret_file=str(tmp_path / "none"),
                values=["127.0.0.3"],
            ),
        )
    with pytest.raises(ActionFailed, match="not a valid A record value"):
        run_action("dns.update", **signed(knot, values=["db-west"]))
    assert knot.query("db") == {"127.0.0.2"}


def test_a_server_that_is_not_there(knot: KnotServer) -> None:
    args = signed(knot, values=["127.0.0.3"], timeout_s=1)
    args["port"] = 1  # nothing listens on port 1
    with pytest.raises(ActionFailed, match=re.escape("cannot talk to the DNS server 127.0.0.1:1")):
        run_action("dns.update", **args)


def test_key_name_and_secret_come_together() -> None:
    with pytest.raises(ValueError, match="key_name needs"):
        args_of(
            "dns.update",
            server="127.0.0.1",
            zone="z.test",
            name="a",
            values=["127.0.0.1"],
            key_name="k",
        )


# -- dns.check -----------------------------------------------------------------------------------


def test_check_matches_exactly(knot: KnotServer) -> None:
    ok = run_action("dns.check", **record(knot, expect=["127.0.0.2"]))
    assert ok.outputs == {"values": "127.0.0.2", "matched": "true"}
    with pytest.raises(ActionFailed, match=r"answers 127\.0\.0\.2 .* expected 127\.0\.0\.3"):
        run_action("dns.check", **record(knot, expect=["127.0.0.3"]))
    with pytest.raises(ActionFailed, match=re.escape("expected 127.0.0.2,127.0.0.3")):
        run_action("dns.check", **record(knot, expect=["127.0.0.2", "127.0.0.3"]))


def test_check_absent_and_report_only(knot: KnotServer) -> None:
    run_action("dns.check", **record(knot, "nothing-here", expect_absent=True))
    with pytest.raises(ActionFailed, match="expected \\(none\\)"):
        run_action("dns.check", **record(knot, expect_absent=True))
    report = run_action("dns.check", **record(knot))
    assert report.outputs == {"values": "127.0.0.2", "matched": "false"}


def test_check_waits_and_can_be_cancelled(knot: KnotServer) -> None:
    ctx = FakeContext()
    ctx.cancel.set()  # the runner's timeout passed: the poll stops instead of waiting 60 s
    with pytest.raises(ActionFailed, match="cancelled"):
        run_action("dns.check", ctx, **record(knot, expect=["127.0.0.3"], wait_s=60))


def test_describe_touches_nothing(knot: KnotServer) -> None:
    from drkit.runbooks.actions.registry import get_action

    action = get_action("dns.update")()
    line = action.describe(args_of("dns.update", **signed(knot, values=["127.0.0.3"])))
    assert line.startswith("set db A in zone failover.test to 127.0.0.3")
    assert "signed with key ddns-key" in line
    assert knot.query("db") == {"127.0.0.2"}
