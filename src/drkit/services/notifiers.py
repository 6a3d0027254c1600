"""The notifiers of drkit.yaml, listed and tried: ``drkit notify list|test`` for every face.

:func:`list_notifiers` builds each notifier (which reads its secrets) and says
whether it is ready; :func:`try_notifiers` sends a recognisable, harmless
test notification (and with ``resolve`` its resolution) through one notifier
or all of them, each delivery reported as it ends. The results' ``to_json()``
is the commands' ``--json``; :meth:`TrialResult.failure` the error for
deliveries that failed.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drkit import __version__
from drkit.errors import UsageError
from drkit.notify.base import EventAction, Notification, Notifier, Severity
from drkit.notify.errors import NotifierConfigError, NotifyError
from drkit.services.progress import SILENT, Progress

if TYPE_CHECKING:
    from drkit.notify.dispatch import Delivery
    from drkit.plugins import PluginSettings
    from drkit.services.workspace import Workspace


@dataclass(frozen=True)
class NotifierRow:
    """One configured notifier: its type, where it delivers, and why it cannot be built."""

    name: str
    type: str
    target: str
    ok: bool
    problem: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "target": self.target,
            "ok": self.ok,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class NotifierList:
    """The notifiers of drkit.yaml, by name."""

    rows: list[NotifierRow]

    def to_json(self) -> list[dict[str, Any]]:
        return [row.to_json() for row in self.rows]


def list_notifiers(workspace: Workspace) -> NotifierList:
    """Each notifier of drkit.yaml; building it checks that its secrets can be read."""
    notifiers = workspace.settings.notifiers
    return NotifierList([_row(name, settings) for name, settings in sorted(notifiers.items())])


def _row(name: str, settings: PluginSettings) -> NotifierRow:
    from drkit.notify.registry import NOTIFIERS, build_notifier

    problem = None
    try:
        build_notifier(name, settings)
    except NotifierConfigError as exc:
        problem = exc.message
    target = NOTIFIERS.settings_of(settings).target()
    return NotifierRow(name, settings.type, target, problem is None, problem)


@dataclass(frozen=True)
class TrialRequest:
    """Which notifier (``name``, or every one with ``all``), how, and how patiently."""

    name: str | None = None
    all: bool = False
    severity: Severity = Severity.INFO
    resolve: bool = False
    retries: int = 1
    timeout_s: float = 30.0


@dataclass(frozen=True)
class TrialDelivery:
    """One delivery of the test: the event sent and how its delivery went."""

    event: Notification
    delivery: Delivery

    def to_json(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "action": self.event.action.value,
            "notifier": d.notifier,
            "ok": d.ok,
            "attempts": d.attempts,
            "error": d.error,
            "started": d.started,
            "duration_s": round(d.duration_s, 3),
        }


@dataclass(frozen=True)
class TrialResult:
    """Every delivery of the test, trigger first (then the resolution)."""

    deliveries: list[TrialDelivery]

    def to_json(self) -> list[dict[str, Any]]:
        return [d.to_json() for d in self.deliveries]

    def failure(self) -> NotifyError | None:
        failed = [d for d in self.deliveries if not d.delivery.ok]
        if not failed:
            return None
        return NotifyError(
            f"{len(failed)} of {len(self.deliveries)} test notifications were not delivered",
            hint="each failure above says why; fix the notifier's settings and try again",
        )


def try_notifiers(
    workspace: Workspace, request: TrialRequest, progress: Progress = SILENT
) -> TrialResult:
    """Send the test (and its resolution) through the chosen notifiers; a phase per event."""
    from drkit.notify.dispatch import deliver

    notifiers = _chosen(workspace, request.name, request.all)
    trigger = trial_notification(request.severity)
    events = [trigger, _resolved(trigger)] if request.resolve else [trigger]
    done: list[TrialDelivery] = []
    for event in events:
        progress.phase(f"sending a test {event.action.value} to {len(notifiers)} notifier(s)")
        deliveries = deliver(event, notifiers, retries=request.retries, timeout_s=request.timeout_s)
        done += [TrialDelivery(event, d) for d in deliveries]
    return TrialResult(done)


def _chosen(workspace: Workspace, name: str | None, all_: bool) -> list[Notifier]:
    from drkit.notify.registry import build_notifier, select

    configured = workspace.settings.notifiers
    if all_ == (name is not None):
        raise UsageError(
            "name one notifier, or pass --all",
            hint=f"configured: {', '.join(sorted(configured)) or 'none'}",
        )
    names = sorted(configured) if all_ else [str(name)]
    if not names:
        raise UsageError(
            "no notifiers are configured",
            hint="add a 'notifiers:' section to drkit.yaml (see docs/notifications.md)",
        )
    return [build_notifier(n, select(configured, n)) for n in names]


def trial_notification(severity: Severity) -> Notification:
    """The notification `drkit notify test` sends: recognisable, harmless, one per host."""
    host = socket.gethostname()
    return Notification(
        action=EventAction.TRIGGER,
        dedup_key=f"drkit-test:{host}",
        severity=severity,
        summary=f"drkit test notification from {host}",
        source=f"drkit notify test on {host}",
        time=datetime.now(UTC),
        details=(("purpose", "checking that notifications arrive"), ("drkit", __version__)),
    )


def _resolved(trigger: Notification) -> Notification:
    return Notification(
        action=EventAction.RESOLVE,
        dedup_key=trigger.dedup_key,
        severity=trigger.severity,
        summary=trigger.summary,
        source=trigger.source,
        time=datetime.now(UTC),
        details=trigger.details,
    )
