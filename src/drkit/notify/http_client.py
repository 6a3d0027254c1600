"""One HTTP POST for the webhook, Slack and PagerDuty drivers, with errors translated.

httpx is imported here only; drivers import this module when they first send,
so reading drkit.yaml does not pay for httpx. Messages name only the
receiver's ``scheme://host:port``: the path of a Slack or PagerDuty URL may
hold a token.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from drkit import __version__
from drkit.notify.errors import (
    NotifyAuthError,
    NotifyError,
    NotifyRejected,
    NotifyTransientError,
)

USER_AGENT = f"drkit/{__version__}"
_SHOWN_BODY = 200  # characters of a refusal's body quoted in the error message


@dataclass(frozen=True)
class HttpTarget:
    """Where to POST and how long to wait."""

    url: str
    timeout_s: float
    ca_file: Path | None = None

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``: safe to print, unlike the path."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def post(what: str, target: HttpTarget, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
    """POST ``body``; return the 2xx response or raise the matching NotifyError."""
    all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    verify = _verify(what, target)
    try:
        with httpx.Client(
            timeout=target.timeout_s, verify=verify, follow_redirects=False
        ) as client:
            response = client.post(target.url, content=body, headers=all_headers)
    except httpx.TimeoutException as exc:
        raise NotifyTransientError(
            f"{what}: no answer from {target.origin} within {target.timeout_s:g} s"
        ) from exc
    except httpx.TransportError as exc:
        raise _transport_error(what, target, exc) from exc
    except httpx.InvalidURL as exc:  # its text may quote the path, which may hold a token
        raise NotifyRejected(
            f"{what}: the URL for {target.origin} is not valid",
            hint="check the notifier's url: in drkit.yaml",
        ) from exc
    except httpx.HTTPError as exc:  # an answer that cannot be read, ...
        raise _other_error(what, target, exc) from exc
    check_status(what, target, response)
    return response


def _verify(what: str, target: HttpTarget) -> ssl.SSLContext | bool:
    """The TLS context trusting ``ca_file`` (the system's CAs without one)."""
    if target.ca_file is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(target.ca_file))
    except OSError as exc:  # ssl.SSLError too: a file that holds no certificate
        why = exc.strerror or str(exc)
        raise NotifyRejected(
            f"{what}: cannot use the CA file {target.ca_file}: {why}",
            hint="ca_file: in drkit.yaml must name a readable PEM file of CA certificates",
        ) from exc


def _other_error(what: str, target: HttpTarget, exc: httpx.HTTPError) -> NotifyError:
    """Any other httpx failure, by drkit's httpx table (the URL's path is never shown)."""
    from drkit.errors_map.httpx import HTTPX

    error = HTTPX.translate(
        exc, NotifyRejected, what=f"{what} to {target.origin}", transient=NotifyTransientError
    )
    if isinstance(error, NotifyError):
        return error
    return NotifyRejected(
        f"{what} to {target.origin}: {type(exc).__name__}",
        hint="check the notifier's url: in drkit.yaml",
    )


def _transport_error(what: str, target: HttpTarget, exc: httpx.TransportError) -> NotifyError:
    if _caused_by(exc, ssl.SSLCertVerificationError):
        return NotifyRejected(
            f"{what}: the TLS certificate of {target.origin} is not trusted: {exc}",
            hint="fix the receiver's certificate, or name its CA with ca_file: in drkit.yaml",
        )
    why = str(exc) or type(exc).__name__
    return NotifyTransientError(f"{what}: cannot reach {target.origin}: {why}")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def check_status(what: str, target: HttpTarget, response: httpx.Response) -> None:
    """Raise for anything but 2xx: 429/5xx transient, 401/403 auth, other answers refused."""
    status = response.status_code
    if 200 <= status < 300:
        return
    said = f"{what}: {target.origin} answered HTTP {status}{_quote(response)}"
    if status == 429 or status >= 500:
        raise NotifyTransientError(said)
    if status in (401, 403):
        raise NotifyAuthError(said)
    if 300 <= status < 400:
        where = response.headers.get("location", "elsewhere")
        raise NotifyRejected(
            said,
            hint=f"the receiver redirects to {urlsplit(where).netloc or where}; "
            "configure the final URL",
        )
    raise NotifyRejected(said)


def _quote(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if not text:
        return ""
    return f": {text[:_SHOWN_BODY]}{'...' if len(text) > _SHOWN_BODY else ''}"
