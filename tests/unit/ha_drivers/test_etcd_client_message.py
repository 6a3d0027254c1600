"""The etcd client's error says what was tried and for how long, not a made-up bound."""

from __future__ import annotations

import re
import socket

import pytest

from drkit.ha.drivers.dcs.etcd3_client import EtcdClient
from drkit.ha.drivers.errors import DCSUnavailable


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_message_counts_the_tries_and_the_time_spent() -> None:
    endpoints = [f"http://127.0.0.1:{_closed_port()}" for _ in range(2)]
    client = EtcdClient(endpoints, timeout_s=0.2)
    with pytest.raises(DCSUnavailable) as caught:
        client.post("kv/range", {"key": "eA=="})
    text = str(caught.value)
    assert "within 0 s" not in text
    assert re.search(r"2 tries over 2 endpoint\(s\) in \d+\.\d s", text), text
    assert "each try times out after 0.2 s" in text
    assert "retrying" not in text  # retry_s 0: no promise of retrying


def test_the_message_names_the_retry_period_when_there_is_one() -> None:
    client = EtcdClient([f"http://127.0.0.1:{_closed_port()}"], timeout_s=0.2, retry_s=0.3)
    with pytest.raises(DCSUnavailable) as caught:
        client.post("kv/range", {"key": "eA=="})
    text = str(caught.value)
    assert "retrying for up to 0.3 s" in text
    tries = int(re.search(r"(\d+) tries", text).group(1))  # type: ignore[union-attr]
    assert tries >= 2, text
