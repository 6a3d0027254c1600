"""A small client of etcd's v3 JSON gateway (``/v3/...``) over httpx, with endpoint failover.

etcd's gateway speaks the gRPC messages as JSON: keys and values base64,
64-bit numbers as strings, fields at their zero value (``succeeded: false``,
``TTL: 0``) left out. Each request goes to the last endpoint that answered and
moves on to the next one on a connection error, a timeout, or an etcd
"unavailable"/"deadline exceeded" answer (a member without quorum), so a
request takes at most ``retry_s`` plus ``timeout_s`` (and at least one try per
endpoint) before :class:`DCSUnavailable`.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx

from drkit.ha.drivers.errors import DCSError, DCSUnavailable

Json = dict[str, Any]
_RETRY_CODES = {4, 14}  # gRPC DEADLINE_EXCEEDED, UNAVAILABLE ("request timed out", no leader)
_AUTH_CODES = {16}  # UNAUTHENTICATED (token expired)


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def unb64(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def prefix_end(prefix: str) -> str:
    """The range end that covers every key starting with ``prefix`` (last byte + 1)."""
    raw = prefix.encode()
    return b64(raw[:-1] + bytes([raw[-1] + 1]))


def num(value: Any) -> int:
    """A 64-bit number as the gateway sends it (a string, or absent for 0)."""
    return int(value or 0)


class EtcdClient:
    def __init__(
        self,
        endpoints: list[str],
        *,
        timeout_s: float,
        retry_s: float = 0.0,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._credentials = (username, password) if username is not None else None
        self._token: str | None = None
        self._current = 0
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s), verify=tls or True)

    def close(self) -> None:
        self._http.close()

    def post(self, path: str, body: Json) -> Json:
        """POST ``body`` to ``/v3/<path>`` on the first endpoint that answers.

        Goes round the endpoints (at least once each) until ``retry_s`` has passed,
        so a member election (about 1-2 s after the etcd leader dies) is ridden out.
        """
        failures: list[str] = []
        count = len(self.endpoints)
        started = time.monotonic()
        deadline = started + self.retry_s
        step = 0
        while step < count or time.monotonic() < deadline:
            index = (self._current + step) % count
            endpoint = self.endpoints[index]
            step += 1
            try:
                answer = self._post_one(endpoint, path, body)
            except _TryNext as exc:
                failures.append(f"{endpoint}: {exc}")
                if step % count == 0:
                    time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
                continue
            self._current = index
            return answer
        elapsed = time.monotonic() - started
        raise DCSUnavailable(_unanswered(path, step, elapsed, failures[-count:], self))

    def _post_one(self, endpoint: str, path: str, body: Json, retry_auth: bool = True) -> Json:
        if self._credentials is not None and self._token is None:
            self._token = self._authenticate(endpoint)
        headers = {"Authorization": self._token} if self._token else {}
        try:
            response = self._http.post(f"{endpoint}/v3/{path}", json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise _TryNext(f"no answer within {self.timeout_s:g} s") from exc
        except httpx.TransportError as exc:
            _refuse_bad_tls(endpoint, exc)
            raise _TryNext(str(exc) or type(exc).__name__) from exc
        answer = _json(response)
        if response.status_code == 200 and "error" not in answer:
            return answer
        code = num(answer.get("code"))
        message = str(answer.get("message") or answer.get("error") or response.text[:200])
        if code in _AUTH_CODES and retry_auth and self._credentials is not None:
            self._token = None
            return self._post_one(endpoint, path, body, retry_auth=False)
        if code in _RETRY_CODES or response.status_code in (502, 503, 504):
            raise _TryNext(message)
        raise DCSError(
            f"etcd refused /v3/{path}: {message}",
            hint="check the etcd user's permissions" if code == 7 else "see etcd's log",
        )

    def stream(self, path: str, body: Json, *, idle_s: float) -> Iterator[Json]:
        """POST ``body`` to ``/v3/<path>`` and yield each message of the streamed answer.

        For ``watch``: etcd's gateway writes one JSON message per line for as long as
        the stream lives. Tries the endpoint that answered last; a stream silent for
        ``idle_s`` ends (the caller opens another); a transport error or an error
        message moves to the next endpoint and raises :class:`DCSUnavailable`.
        """
        endpoint = self.endpoints[self._current]
        try:
            if self._credentials is not None and self._token is None:
                self._token = self._authenticate(endpoint)
            headers = {"Authorization": self._token} if self._token else {}
            timeout = httpx.Timeout(self.timeout_s, read=idle_s)
            with self._http.stream(
                "POST", f"{endpoint}/v3/{path}", json=body, headers=headers, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    raise _TryNext(f"HTTP {response.status_code}")
                for line in response.iter_lines():
                    if line.strip():
                        yield _message(line)
        except httpx.ReadTimeout:
            return  # quiet for idle_s: the caller watches again from where it was
        except (_TryNext, httpx.TransportError) as exc:
            self._current = (self._current + 1) % len(self.endpoints)
            raise DCSUnavailable(f"etcd at {endpoint}: /v3/{path} stream: {exc}") from exc

    def _authenticate(self, endpoint: str) -> str:
        assert self._credentials is not None
        name, password = self._credentials
        try:
            response = self._http.post(
                f"{endpoint}/v3/auth/authenticate", json={"name": name, "password": password}
            )
        except httpx.TransportError as exc:
            raise _TryNext(str(exc) or type(exc).__name__) from exc
        answer = _json(response)
        token = answer.get("token")
        if response.status_code != 200 or not token:
            raise DCSError(
                f"etcd refused user {name!r}: {answer.get('message') or response.text[:200]}",
                hint="check the etcd username and password",
            )
        return str(token)


def _refuse_bad_tls(endpoint: str, exc: Exception) -> None:
    """A certificate that does not verify is a configuration fault, not an outage."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            raise DCSError(
                f"etcd at {endpoint}: TLS certificate not trusted: {cause.verify_message}",
                hint="set ca_file to the CA that signed etcd's certificate",
            ) from exc
        cause = cause.__cause__ or cause.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        raise DCSError(
            f"etcd at {endpoint}: TLS certificate not trusted: {exc}",
            hint="set ca_file to the CA that signed etcd's certificate",
        ) from exc


def _unanswered(path: str, tries: int, elapsed: float, last: list[str], client: EtcdClient) -> str:
    """Why a call failed: how many tries, over how many endpoints, for how long, each bound."""
    retrying = f", retrying for up to {client.retry_s:g} s" if client.retry_s > 0 else ""
    return (
        f"no etcd endpoint answered /v3/{path}: {tries} {'try' if tries == 1 else 'tries'} "
        f"over {len(client.endpoints)} endpoint(s) in {elapsed:.1f} s "
        f"(each try times out after {client.timeout_s:g} s{retrying}); "
        f"last: {'; '.join(last)}"
    )


def _message(line: str) -> Json:
    """One streamed message; the gateway wraps each in ``{"result": ...}`` or ``{"error": ...}``."""
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise _TryNext(f"not JSON: {line[:100]}") from exc
    if not isinstance(value, dict) or "error" in value:
        raise _TryNext(str(value.get("error") if isinstance(value, dict) else value)[:200])
    result = value.get("result", {})
    return result if isinstance(result, dict) else {}


class _TryNext(Exception):
    """This endpoint cannot serve the request now; another one may."""


def _json(response: httpx.Response) -> Json:
    try:
        value = response.json()
    except ValueError:
        return {"error": response.text[:200] or f"HTTP {response.status_code}"}
    return value if isinstance(value, dict) else {"error": str(value)[:200]}
