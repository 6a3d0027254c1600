"""The runbook action contract, run for every action in the registry (ACTIONS).

- **arguments validated**: ``Args`` is frozen and refuses unknown keys; a
  sample of valid arguments validates, the same with an unknown key does not;
- **dry run touches nothing**: ``describe`` (what dry runs and guides call)
  returns one line without connecting anywhere, starting a process or
  writing a file;
- **timeouts honoured**: against a target that would hang for an hour, ``run``
  with a short step timeout stops with ActionFailed (and the thread returns)
  once the step's time is up; as the runner does, the context reports
  ``cancelled()`` from then on.

Every registered action needs a valid sample in :data:`SAMPLES`, and either a
hanging case in :data:`HANGS` or a reason in :data:`NO_HANG`; a new action
without them fails ``test_every_action_is_covered``.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from drkit.notify.webhook import WebhookSettings
from drkit.runbooks.actions.registry import ACTIONS, get_action, known_types
from drkit.runbooks.errors import ActionFailed
from drkit.settings.model import Settings
from tests.fixtures.ha_context import FakeContext
from tests.fixtures.receivers import HttpReceiver

PG = {"host": "127.0.0.1", "port": 1, "user": "postgres"}
DNS = {"server": "127.0.0.1:1", "zone": "example.com", "name": "db.example.com"}
ACTIVITY = {
    "type": "action",
    "name": "sleep",
    "provider": {"type": "process", "path": "sleep", "arguments": "3600"},
}


def samples(tmp: Path) -> dict[str, dict[str, Any]]:
    """Valid ``with:`` arguments for every action (targets that are not there)."""
    return {
        "chaostoolkit.activity": {"activity": ACTIVITY},
        "dns.check": {**DNS, "expect": ["10.0.0.1"]},
        "dns.update": {**DNS, "values": ["10.0.0.1"]},
        "drkit": {"args": ["snapshots"]},
        "drkit.backup": {"policy": "app"},
        "drkit.check": {},
        "drkit.restore": {"target": str(tmp / "restored")},
        "drkit.restore_test": {},
        "ha.loadbalancer": {"site": "east", "state": "drain"},
        "http": {"url": "http://127.0.0.1:1/health"},
        "loadbalancer.set_state": {
            "address": "127.0.0.1:1",
            "backend": "pg",
            "servers": ["east"],
            "state": "maint",
        },
        "manual": {"prompt": "Is the old primary off?"},
        "notify": {"summary": "failover done"},
        "postgres.check_primary": dict(PG),
        "postgres.promote": dict(PG),
        "postgres.replication_lag": dict(PG),
        "process.start": {"argv": ["sleep", "3600"], "pidfile": str(tmp / "app.pid")},
        "process.stop": {"pidfile": str(tmp / "app.pid")},
        "shell": {"command": f"touch {tmp / 'touched'}"},
        "sql": {"dsn": "postgresql://postgres@127.0.0.1:1/x", "query": "select 1"},
        "tcp": {"host": "127.0.0.1", "port": 1},
        "wait_until": {"check": {"action": "tcp", "with": {"host": "127.0.0.1", "port": 1}}},
    }


Hang = Callable[[Path, HttpReceiver], tuple[dict[str, Any], FakeContext]]


def _shell(tmp: Path, receiver: HttpReceiver) -> tuple[dict[str, Any], FakeContext]:
    return {"command": "sleep 3600"}, FakeContext()


def _http(tmp: Path, receiver: HttpReceiver) -> tuple[dict[str, Any], FakeContext]:
    receiver.hang()
    return {"url": receiver.url("/health"), "timeout": 3600}, FakeContext()


def _wait_until(tmp: Path, receiver: HttpReceiver) -> tuple[dict[str, Any], FakeContext]:
    check = {"action": "shell", "with": {"command": "false"}}
    return {"check": check, "interval": 0.05, "timeout": 3600}, FakeContext()


def _activity(tmp: Path, receiver: HttpReceiver) -> tuple[dict[str, Any], FakeContext]:
    return {"activity": ACTIVITY}, FakeContext()


def _notify(tmp: Path, receiver: HttpReceiver) -> tuple[dict[str, Any], FakeContext]:
    receiver.hang()
    settings = Settings(notifiers={"hook": WebhookSettings(url=receiver.url(), timeout_s=300)})
    return {"summary": "s", "timeout": 3600, "retries": 0}, FakeContext(settings=settings)


HANGS: dict[str, Hang] = {
    "shell": _shell,
    "http": _http,
    "wait_until": _wait_until,
    "chaostoolkit.activity": _activity,
    "notify": _notify,
}

NO_HANG = {
    "tcp": "a connect on 127.0.0.1 is answered at once; the timeout is socket.create_connection's",
    "manual": "waits through the runner's approval gate (tested in test_crash_and_operators)",
    "drkit": "runs a drkit child through run_process, as shell does",
    "drkit.backup": "runs a drkit child through run_process, as shell does",
    "drkit.check": "runs a drkit child through run_process, as shell does",
    "drkit.restore": "runs a drkit child through run_process, as shell does",
    "drkit.restore_test": "runs a drkit child through run_process, as shell does",
    "dns.check": "one UDP/TCP query with its own timeout (test_ha_actions_dns)",
    "dns.update": "one RFC 2136 update with its own timeout (test_ha_actions_dns)",
    "ha.loadbalancer": "HAProxy runtime API with the driver's timeout (ha_drivers tests)",
    "loadbalancer.set_state": "HAProxy runtime API with the driver's timeout (ha_drivers tests)",
    "postgres.check_primary": "libpq connect_timeout (test_ha_actions_pg)",
    "postgres.promote": "pg_ctl promote -t bounded by the step (test_ha_actions_pg)",
    "postgres.replication_lag": "libpq connect_timeout (test_ha_actions_pg)",
    "process.start": "bounded health wait (test_ha_actions_process)",
    "process.stop": "bounded stop wait (test_ha_actions_process)",
    "sql": "libpq connect_timeout and statement_timeout (test_builtin_actions)",
}


def _drkit_types() -> list[str]:
    """The actions drkit ships (tests elsewhere may register fakes in the same process)."""
    return [n for n in known_types() if get_action(n).__module__.startswith("drkit.")]


def test_every_action_is_covered(tmp_path: Path) -> None:
    names = _drkit_types()
    assert sorted(samples(tmp_path)) == names
    assert sorted([*HANGS, *NO_HANG]) == names
    assert not set(HANGS) & set(NO_HANG)


@pytest.mark.parametrize("name", _drkit_types())
def test_arguments_are_validated(name: str, tmp_path: Path) -> None:
    model = ACTIONS.get(name).settings
    assert model is get_action(name).Args
    assert model.model_config.get("extra") == "forbid" and model.model_config.get("frozen")
    sample = samples(tmp_path)[name]
    model.model_validate(sample)
    with pytest.raises(ValidationError, match="no_such_argument"):
        model.model_validate({**sample, "no_such_argument": 1})


@pytest.fixture
def nothing_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connecting or starting a process fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"describe touched something: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.mark.parametrize("name", _drkit_types())
def test_a_dry_run_touches_nothing(name: str, tmp_path: Path, nothing_touched: None) -> None:
    action = get_action(name)()
    args = action.validate(samples(tmp_path)[name])
    line = action.describe(args)
    assert line.strip() and "\n" not in line.strip()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(HANGS))
def test_a_step_timeout_is_honoured(name: str, tmp_path: Path, http_receiver: HttpReceiver) -> None:
    raw, ctx = HANGS[name](tmp_path, http_receiver)
    ctx.timeout_s = 0.5
    action = get_action(name)()
    args = action.validate(raw)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            action.run(args, ctx)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    runner_gives_up = threading.Timer(ctx.timeout_s, ctx.cancel.set)  # what the runner does
    runner_gives_up.start()
    worker.start()
    worker.join(timeout=120)  # the target hangs for an hour: only a stopped action returns
    assert not worker.is_alive(), f"{name} ignored its 0.5 s step timeout"
    runner_gives_up.cancel()
    (error,) = outcome
    assert isinstance(error, ActionFailed), error
