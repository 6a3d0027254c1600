"""Send one notification to many notifiers at once; no backend can hold up or break another.

Each notifier gets its own (daemon) thread. A transient failure is retried
with exponential backoff (``backoff_s``, then twice that, ...) up to
``retries`` more times; a permanent one is not. ``timeout_s`` bounds the whole
delivery to every notifier, retries included: when it passes,
:func:`deliver` returns and reports the notifiers still busy as failed. A
thread stuck in a backend that ignores its own timeout is abandoned (a
daemon thread never keeps the process alive); if it finishes later its result
is only logged. Every failure is logged on the ``drkit.notify`` logger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from drkit.notify.base import Notification, Notifier
from drkit.notify.errors import NotifyError

log = logging.getLogger("drkit.notify")


@dataclass(frozen=True)
class Delivery:
    """How the delivery of one notification to one notifier went."""

    notifier: str
    ok: bool
    attempts: int
    error: str | None
    started: datetime
    duration_s: float


@dataclass(frozen=True)
class RetryPolicy:
    retries: int
    backoff_s: float
    deadline: float  # time.monotonic() by which every delivery ends
    sleep: Callable[[float], None]

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        return float(self.backoff_s * 2 ** (attempt - 1))


def deliver(
    notification: Notification,
    notifiers: Sequence[Notifier],
    *,
    retries: int = 3,
    backoff_s: float = 0.5,
    timeout_s: float = 10,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send ``notification`` through every notifier concurrently; one Delivery each, in order.

    Returns within about ``timeout_s`` seconds whatever the backends do.
    """
    if retries < 0 or backoff_s < 0 or timeout_s <= 0:
        raise ValueError("deliver: retries and backoff_s must be >= 0, timeout_s > 0")
    policy = RetryPolicy(retries, backoff_s, time.monotonic() + timeout_s, sleep)
    jobs = [_Job(notifier, notification, policy) for notifier in notifiers]
    for job in jobs:
        job.thread.start()
    for job in jobs:
        job.thread.join(max(0.0, policy.deadline - time.monotonic()))
    return [job.delivery(timeout_s) for job in jobs]


class _Job:
    """The delivery to one notifier, run in its own thread."""

    def __init__(self, notifier: Notifier, notification: Notification, policy: RetryPolicy):
        self.notifier = notifier
        self.notification = notification
        self.policy = policy
        self.started = datetime.now(UTC)
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._attempts = 0
        self._result: Delivery | None = None
        self._abandoned = False
        self.thread = threading.Thread(
            target=self._run, name=f"drkit-notify-{notifier.name}", daemon=True
        )

    def _run(self) -> None:
        error: NotifyError | None = None
        for attempt in range(1, self.policy.retries + 2):
            with self._lock:
                if self._abandoned:
                    return
                self._attempts = attempt
            error = self._attempt()
            if error is None or not self._retry(error, attempt):
                break
        self._finish(error)

    def _attempt(self) -> NotifyError | None:
        try:
            self.notifier.send(self.notification)
        except NotifyError as exc:
            return exc
        except Exception as exc:  # a driver bug must not break the others: report it
            log.exception("notifier %r failed unexpectedly", self.notifier.name)
            return NotifyError(f"notifier {self.notifier.name!r} failed unexpectedly: {exc!r}")
        return None

    def _retry(self, error: NotifyError, attempt: int) -> bool:
        """Wait before the next attempt and say True, or say False: give up."""
        if not error.transient or attempt > self.policy.retries:
            return False
        delay = self.policy.delay(attempt)
        if time.monotonic() + delay >= self.policy.deadline:
            log.warning("%s; no time left to retry", error.message)
            return False
        log.warning(
            "%s; retrying in %.1f s (attempt %d of %d)",
            error.message, delay, attempt + 1, self.policy.retries + 1,
        )  # fmt: skip
        self.policy.sleep(delay)
        return True

    def _finish(self, error: NotifyError | None) -> None:
        with self._lock:
            if self._abandoned:
                outcome = "delivered" if error is None else f"failed: {error.message}"
                log.info("notifier %r finished after its timeout: %s", self.notifier.name, outcome)
                return
            self._result = self._delivery(error is None, error.message if error else None)
        if error is not None:
            log.error(
                "notification %r not delivered to %r after %d attempt(s): %s",
                self.notification.dedup_key, self.notifier.name, self._attempts, error.message,
            )  # fmt: skip

    def _delivery(self, ok: bool, error: str | None) -> Delivery:
        return Delivery(
            notifier=self.notifier.name,
            ok=ok,
            attempts=self._attempts,
            error=error,
            started=self.started,
            duration_s=time.monotonic() - self._start,
        )

    def delivery(self, timeout_s: float) -> Delivery:
        """The result; a job still running is abandoned and reported as timed out."""
        with self._lock:
            if self._result is not None:
                return self._result
            self._abandoned = True
            message = (
                f"notifier {self.notifier.name!r}: no result within {timeout_s:g} s "
                f"(attempt {self._attempts} still running); gave up"
            )
            result = self._delivery(False, message)
        log.error("notification %r: %s", self.notification.dedup_key, message)
        return result
