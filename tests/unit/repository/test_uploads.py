"""Background uploads: bounded, waited for, errors brought back."""

from __future__ import annotations

import threading

import pytest

from drkit.errors import StorageError
from drkit.repository.uploads import Uploads


def test_wait_runs_every_task() -> None:
    done: list[int] = []
    uploads = Uploads(2)
    for i in range(10):
        uploads.submit(lambda i=i: done.append(i))
    uploads.wait()
    assert sorted(done) == list(range(10))


def test_an_error_comes_back_on_wait_and_on_the_next_submit() -> None:
    uploads = Uploads(1)

    def fail() -> None:
        raise StorageError("upload failed")

    uploads.submit(fail)
    with pytest.raises(StorageError):
        uploads.wait()
    with pytest.raises(StorageError):
        uploads.submit(lambda: None)
    uploads.wait(raise_errors=False)  # abort path: no raise


def test_in_flight_is_bounded() -> None:
    release = threading.Event()
    running: list[int] = []
    uploads = Uploads(1, limit=2)
    uploads.submit(lambda: (running.append(1), release.wait(5))[0])
    uploads.submit(lambda: running.append(2))
    blocked = threading.Thread(target=uploads.submit, args=(lambda: running.append(3),))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()  # a third pack waits while two are in flight
    release.set()
    blocked.join(5)
    uploads.wait()
    assert sorted(running) == [1, 2, 3]
