"""The failover procedure: a runbook, run by the ordinary runner, journaled and timed.

The built-in runbook ``ha-failover`` is made of typed actions, built from the
``ha:`` inventory for one (old site, new site) pair:

1. fence the old primary: its load balancer server to ``maint`` and its
   sessions shut down (``on_failure: continue``: the old site may be gone, so
   each runtime API call waits one ``check_timeout_s``, not the driver's 5 s),
   then the optional ``fencing_command``;
2. promote the new site's database (``postgres.promote``, write verified);
3. move each DNS record of the new site (``dns.update``, RFC 2136);
4. open the new site's load balancer server (``ready``);
5. start its app servers (``shell``, locally or over SSH);
6. verify the new primary answers as writable (``postgres.check_primary``);
7. notify (``notify``), if notifiers are configured.

A user runbook (``ha.failover_runbook``) gets the inputs ``old_site``,
``new_site`` and ``reason`` instead. Either way the run is a Run in the
catalog, so failovers count as recovery-time evidence in ``drkit runbook
stats``.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import drkit.ha.actions.loadbalancer  # noqa: F401 - registers ha.loadbalancer
from drkit.catalog import Catalog
from drkit.errors import DrkitError
from drkit.ha.build import site_of
from drkit.runbooks.loader import load_runbook
from drkit.runbooks.model import Runbook
from drkit.runbooks.service import RunRequest, start_run
from drkit.settings.ha import HaSettings
from drkit.settings.model import Settings

BUILTIN_NAME = "ha-failover"


def _fence_steps(ha: HaSettings, old: str | None) -> list[dict[str, Any]]:
    if old is None:
        return []
    steps: list[dict[str, Any]] = []
    if site_of(ha, old).load_balancer is not None:
        steps.append(
            {
                "id": "fence-old-lb",
                "name": f"Stop traffic to {old}",
                "action": "ha.loadbalancer",
                "with": {
                    "site": old,
                    "state": "maint",
                    "shutdown_sessions": True,
                    # the old site is presumed lost: a load balancer that does not answer
                    # within a health check's time is taken as gone, not waited for (its
                    # primary fenced itself before its lease expired)
                    "timeout_s": ha.timings.check_timeout_s,
                },
                "timeout": "10s",
                "on_failure": "continue",
            }
        )
    if ha.fencing_command:
        steps.append(
            {
                "id": "fence-old-command",
                "name": f"Fence {old}",
                "action": "shell",
                "with": {"command": ha.fencing_command, "env": {"DRKIT_FENCE_SITE": old}},
                "timeout": "30s",
                "on_failure": "continue",
            }
        )
    return steps


def _promote_steps(ha: HaSettings, new: str) -> list[dict[str, Any]]:
    db = site_of(ha, new).database
    assert db is not None, "only database sites fail over"
    server = {"host": db.host, "port": db.port, "user": db.user, "dbname": db.dbname}
    return [
        {
            "id": "promote",
            "name": f"Promote {new}",
            "action": "postgres.promote",
            "with": {**server, "wait_s": 60},
            "timeout": "90s",
        }
    ]


def _move_steps(ha: HaSettings, new: str) -> list[dict[str, Any]]:
    site = site_of(ha, new)
    assert site.database is not None
    steps: list[dict[str, Any]] = []
    for i, record in enumerate(site.dns):
        host, _, port = record.server.partition(":")
        args: dict[str, Any] = {
            "server": host,
            "port": int(port or 53),
            "zone": record.zone,
            "name": record.name,
            "values": [record.address or site.database.host],
            "ttl": record.ttl,
        }
        if record.tsig_key_file is not None:
            args |= {
                "key_name": record.tsig_key_name or record.tsig_key_file.stem,
                "key_secret_file": str(record.tsig_key_file),
            }
        steps.append(
            {
                "id": f"dns-{i + 1}",
                "name": f"Point {record.name} at {new}",
                "action": "dns.update",
                "with": args,
                "timeout": "30s",
            }
        )
    if site.load_balancer is not None:
        steps.append(
            {
                "id": "open-lb",
                "name": f"Send traffic to {new}",
                "action": "ha.loadbalancer",
                "with": {"site": new, "state": "ready"},
                "timeout": "10s",
            }
        )
    for i, app in enumerate(a for a in site.app_servers if a.start):
        command = app.start or ""
        if app.ssh_host:
            command = f"ssh -o BatchMode=yes {shlex.quote(app.ssh_host)} {shlex.quote(command)}"
        steps.append(
            {
                "id": f"app-{i + 1}",
                "name": f"Start {app.name}",
                "action": "shell",
                "with": {"command": command},
                "timeout": "60s",
            }
        )
    return steps


def _verify_and_notify(ha: HaSettings, new: str, notify: bool) -> list[dict[str, Any]]:
    db = site_of(ha, new).database
    assert db is not None
    steps: list[dict[str, Any]] = [
        {
            "id": "verify",
            "name": f"{new} answers as the writable primary",
            "action": "postgres.check_primary",
            "with": {"host": db.host, "port": db.port, "user": db.user, "expect": "up"},
            "timeout": "30s",
        }
    ]
    if notify:
        steps.append(
            {
                "id": "notify",
                "name": "Tell everyone",
                "action": "notify",
                "with": {
                    "summary": f"HA failover to {new}: ${{{{ inputs.reason }}}}",
                    "severity": "critical",
                },
                "timeout": "60s",
                "on_failure": "continue",
            }
        )
    return steps


def builtin_runbook(ha: HaSettings, old: str | None, new: str, notify: bool) -> Runbook:
    steps = (
        _fence_steps(ha, old)
        + _promote_steps(ha, new)
        + _move_steps(ha, new)
        + _verify_and_notify(ha, new, notify)
    )
    return Runbook.model_validate(
        {
            "name": BUILTIN_NAME,
            "description": f"Automatic failover of cluster {ha.cluster} from {old} to {new}.",
            "inputs": {"reason": {"description": "Why the agent failed over.", "default": ""}},
            "steps": steps,
        }
    )


def prepare_failover(settings: Settings, site: str, user_runbook: Path | None = None) -> None:
    """Load now what a failover to ``site`` will need, and check its runbook.

    The runner and every runbook action are imported on first use; paid in the
    middle of the first failover that is about 0.6 s of a loaded 2-core machine's
    outage, so the agent pays it at start. A runbook that does not load raises
    (:class:`~drkit.errors.DrkitError`) here, at start, not during an outage.
    """
    import drkit.runbooks.service  # noqa: F401 - the runner, its journal and its replay
    from drkit.runbooks.actions.registry import known_types

    known_types()
    ha = settings.ha
    assert ha is not None
    if user_runbook is not None:
        load_runbook(user_runbook)
        return
    if site_of(ha, site).database is None:
        return  # a witness never fails over
    for old in ha.sites:
        if old != site and ha.sites[old].database is not None:
            builtin_runbook(ha, old, site, notify=bool(settings.notifiers))


def run_failover(
    settings: Settings,
    catalog: Catalog,
    old: str | None,
    new: str,
    reason: str,
    *,
    user_runbook: Path | None = None,
    trigger: str = "ha-agent",
) -> str:
    """Run the failover runbook; returns "run N"; raises DrkitError if it did not succeed.

    ``user_runbook``: the file of ``ha.failover_runbook`` (the caller finds it
    in runbooks.dir); None runs the built-in one.
    """
    ha = settings.ha
    assert ha is not None
    if user_runbook is not None:
        runbook = load_runbook(user_runbook).runbook
        inputs = {"old_site": old or "", "new_site": new, "reason": reason}
    else:
        runbook = builtin_runbook(ha, old, new, notify=bool(settings.notifiers))
        inputs = {"reason": reason}
    report = start_run(catalog, runbook, settings, RunRequest(inputs=inputs, trigger=trigger))
    if report.error is not None or report.status.value != "succeeded":
        raise DrkitError(
            f"failover run {report.run_id} {report.status.value}: {report.error}",
            hint=f"`drkit runs show {report.run_id}` has the journal",
        )
    return f"run {report.run_id}"
