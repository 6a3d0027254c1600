"""httpx exceptions: timeouts and transport failures are transient, a status says who refused."""

from __future__ import annotations

from drkit.errors_map.base import ErrorTable, Row

HTTPX = ErrorTable(
    "httpx",
    (
        Row(
            "httpx.TimeoutException",
            "{what}: no answer in time ({detail})",
            "check that the server is up; raise the timeout if it is only slow",
            transient=True,
        ),
        Row(
            "httpx.ConnectError",
            "{what}: cannot connect ({detail})",
            "check the URL's host and port, and that the server listens there",
            transient=True,
        ),
        Row(
            "httpx.UnsupportedProtocol",
            "{what}: not an http or https URL ({detail})",
            "write the URL with http:// or https://",
        ),
        Row(
            "httpx.TransportError",
            "{what}: the connection failed ({detail})",
            "try again; a proxy or a TLS mismatch can cause this",
            transient=True,
        ),
        Row(
            "httpx.HTTPStatusError",
            "{what}: the server refused the request ({detail})",
            "read the server's answer; a 401 or 403 means the credentials are wrong",
        ),
        Row(
            "httpx.HTTPError",
            "{what}: {detail}",
            "the answer could not be read: check that the URL names the server itself "
            "(not a proxy or a web page in front of it)",
        ),
    ),
)
