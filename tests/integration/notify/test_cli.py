"""`drkit notify list|test` in a child process, against real receivers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Runner
from tests.fixtures.receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    HttpReceiver,
    Reply,
    SmtpReceiver,
)

MakeHttp = Callable[..., HttpReceiver]
ENV = {"HOOK_SECRET": "s3cret", "SMTP_PASS": SMTP_PASSWORD}


def write_settings(
    tmp_path: Path, hook: HttpReceiver, smtp: SmtpReceiver, pager: HttpReceiver
) -> Path:
    path = tmp_path / "drkit.yaml"
    path.write_text(f"""\
version: 1
notifiers:
  hook:
    type: webhook
    url: {hook.url()}
    secret_env: HOOK_SECRET
  mail:
    type: email
    host: {smtp.host}
    port: {smtp.port}
    username: {SMTP_USER}
    password_env: SMTP_PASS
    ca_file: {smtp.ca_file}
    sender: drkit@example.com
    recipients: [oncall@example.com]
  pager:
    type: pagerduty
    url: {pager.url("/v2/enqueue")}
    routing_key_env: PD_KEY
""")
    return path


def test_list_and_test_one_notifier(
    drkit: Runner, tmp_path: Path, make_http_receiver: MakeHttp, smtp_receiver: SmtpReceiver
) -> None:
    hook, pager = make_http_receiver(), make_http_receiver()
    config = str(write_settings(tmp_path, hook, smtp_receiver, pager))

    listing = drkit("--config", config, "notify", "list", "--json", env=ENV).check()
    listed = json.loads(listing.stdout)
    assert [(n["name"], n["type"], n["ok"]) for n in listed] == [
        ("hook", "webhook", True),
        ("mail", "email", True),
        ("pager", "pagerduty", False),  # PD_KEY is not set
    ]
    assert "PD_KEY" in listed[2]["problem"]
    assert listed[0]["target"] == f"POST {hook.url()}, signed (secret from env HOOK_SECRET)"

    tested = drkit("--config", config, "notify", "test", "hook", env=ENV).check()
    assert "hook" in tested.stdout and "delivered" in tested.stdout
    (request,) = hook.wait_for(1)
    payload = request.json()
    assert payload["summary"].startswith("drkit test notification from ")
    assert (payload["action"], payload["severity"]) == ("trigger", "info")
    assert (request.header("x-drkit-signature") or "").startswith("sha256=")

    mailed = drkit("--config", config, "notify", "test", "mail", "--severity", "warning", env=ENV)
    mailed.check()
    (mail,) = smtp_receiver.wait_for(1)
    assert mail.tls and mail.message["Subject"].startswith("[drkit] WARNING: drkit test")


def test_all_with_resolve_reports_each_delivery_and_fails_with_exit_30(
    drkit: Runner, tmp_path: Path, make_http_receiver: MakeHttp, smtp_receiver: SmtpReceiver
) -> None:
    hook, pager = make_http_receiver(), make_http_receiver()
    pager.reply_with(Reply(400, b'{"status":"invalid event"}'))
    config = str(write_settings(tmp_path, hook, smtp_receiver, pager))
    env = {**ENV, "PD_KEY": "k3y"}

    result = drkit("--config", config, "notify", "test", "--all", "--resolve", "--json", env=env)

    assert result.returncode == 30, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["notifier"], r["action"], r["ok"]) for r in rows] == [
        ("hook", "trigger", True),
        ("mail", "trigger", True),
        ("pager", "trigger", False),
        ("hook", "resolve", True),
        ("mail", "resolve", True),
        ("pager", "resolve", False),
    ]
    assert rows[2]["attempts"] == 1 and "HTTP 400" in rows[2]["error"]
    assert "2 of 6 test notifications were not delivered" in result.stderr
    assert [r.json()["action"] for r in hook.wait_for(2)] == ["trigger", "resolve"]
    trigger, resolve = (r.json() for r in pager.wait_for(2))
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert len(smtp_receiver.wait_for(2)) == 2


def test_configuration_problems_exit_31_with_hints(
    drkit: Runner, tmp_path: Path, make_http_receiver: MakeHttp, smtp_receiver: SmtpReceiver
) -> None:
    hook, pager = make_http_receiver(), make_http_receiver()
    config = str(write_settings(tmp_path, hook, smtp_receiver, pager))

    unknown = drkit("--config", config, "notify", "test", "slack", env=ENV)
    assert unknown.returncode == 31
    assert "no notifier 'slack'" in unknown.stderr and "hook, mail, pager" in unknown.stderr

    no_key = drkit("--config", config, "notify", "test", "pager", env=ENV)
    assert no_key.returncode == 31
    assert "PD_KEY" in no_key.stderr and "never written into drkit.yaml" in no_key.stderr
    assert pager.requests == []

    neither = drkit("--config", config, "notify", "test", env=ENV)
    assert neither.returncode == 2 and "--all" in neither.stderr


def test_a_bad_notifier_in_drkit_yaml_names_file_and_line(drkit: Runner, tmp_path: Path) -> None:
    config = tmp_path / "drkit.yaml"
    config.write_text("version: 1\nnotifiers:\n  chat:\n    type: slak\n")

    result = drkit("--config", str(config), "notify", "list")

    assert result.returncode == 2
    assert f"{config}:4: notifiers.chat.type: unknown notifier type" in result.stderr
    assert "email, memory, pagerduty, slack, webhook" in result.stderr
