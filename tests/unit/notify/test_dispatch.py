"""deliver() with in-process notifiers: retries, backoff, permanent errors, bugs, deadlines."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from drkit.notify import (
    MemoryNotifier,
    Notification,
    Notifier,
    NotifyAuthError,
    NotifyError,
    NotifyRejected,
    NotifyTransientError,
    deliver,
)
from tests.unit.notify.samples import sample

NO_WAIT = {"sleep": lambda s: None}


class Broken(Notifier):
    """A driver with a bug: raises something that is no NotifyError."""

    type = "broken"

    def __init__(self) -> None:
        self.name = "broken"

    def send(self, notification: Notification) -> None:
        raise KeyError("oops")


class Stuck(Notifier):
    """Blocks in send until released (a backend that ignores its own timeout)."""

    type = "stuck"

    def __init__(self) -> None:
        self.name = "stuck"
        self.release = threading.Event()
        self.entered = threading.Event()

    def send(self, notification: Notification) -> None:
        self.entered.set()
        self.release.wait(60)


@pytest.fixture
def stuck() -> Iterator[Stuck]:
    notifier = Stuck()
    yield notifier
    notifier.release.set()


def test_delivered_at_once() -> None:
    memory = MemoryNotifier("mem")

    (delivery,) = deliver(sample(), [memory])

    assert (delivery.notifier, delivery.ok, delivery.attempts, delivery.error) == (
        "mem", True, 1, None,
    )  # fmt: skip
    assert memory.sent == [sample()]


def test_transient_errors_are_retried_with_exponential_backoff() -> None:
    memory = MemoryNotifier()
    memory.fail_next([NotifyTransientError("busy")] * 3)
    delays: list[float] = []

    (delivery,) = deliver(sample(), [memory], retries=3, backoff_s=0.25, sleep=delays.append)

    assert delivery.ok and delivery.attempts == 4
    assert delays == [0.25, 0.5, 1.0]
    assert memory.sent == [sample()]


def test_retries_run_out() -> None:
    memory = MemoryNotifier()
    memory.fail_next([NotifyTransientError("busy")] * 5)

    (delivery,) = deliver(sample(), [memory], retries=2, **NO_WAIT)  # type: ignore[arg-type]

    assert not delivery.ok and delivery.attempts == 3 and delivery.error == "busy"
    assert memory.sent == []


@pytest.mark.parametrize("error", [NotifyRejected("no"), NotifyAuthError("who?"), NotifyError("x")])
def test_permanent_errors_are_not_retried(error: NotifyError) -> None:
    memory = MemoryNotifier()
    memory.fail_next(error)

    (delivery,) = deliver(sample(), [memory], **NO_WAIT)  # type: ignore[arg-type]

    assert not delivery.ok and delivery.attempts == 1 and delivery.error == error.message
    assert memory.attempts == 1


def test_a_driver_bug_is_reported_and_the_others_still_deliver() -> None:
    memory = MemoryNotifier()

    broken, delivered = deliver(sample(), [Broken(), memory], **NO_WAIT)  # type: ignore[arg-type]

    assert not broken.ok and broken.attempts == 1
    assert "failed unexpectedly: KeyError('oops')" in (broken.error or "")
    assert delivered.ok and memory.sent == [sample()]


def test_a_stuck_notifier_is_abandoned_at_the_deadline(stuck: Stuck) -> None:
    memory = MemoryNotifier()

    hung, delivered = deliver(sample(), [stuck, memory], timeout_s=0.5)

    assert stuck.entered.is_set() and not stuck.release.is_set()  # still inside send
    assert not hung.ok and hung.attempts == 1
    assert hung.error == (
        "notifier 'stuck': no result within 0.5 s (attempt 1 still running); gave up"
    )
    assert delivered.ok


def test_no_retry_when_the_backoff_would_pass_the_deadline() -> None:
    memory = MemoryNotifier()
    memory.fail_next([NotifyTransientError("busy")] * 2)
    delays: list[float] = []

    (delivery,) = deliver(sample(), [memory], backoff_s=60, timeout_s=5, sleep=delays.append)

    assert not delivery.ok and delivery.attempts == 1 and delays == []


def test_nothing_to_deliver_to() -> None:
    assert deliver(sample(), []) == []


@pytest.mark.parametrize("bad", [{"retries": -1}, {"backoff_s": -0.1}, {"timeout_s": 0}])
def test_bad_arguments(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        deliver(sample(), [MemoryNotifier()], **bad)  # type: ignore[arg-type]
