"""systemd's readiness protocol (sd_notify(3)) in a few lines, without libsystemd.

``Type=notify`` units get ``NOTIFY_SOCKET`` (a path, or ``@name`` in the
abstract namespace); a daemon sends ``READY=1`` once it serves and
``STOPPING=1`` when it begins to shut down, each as one datagram. Outside
systemd the variable is absent and :func:`notify` does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

READY = "READY=1"
STOPPING = "STOPPING=1"


def notify(*fields: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``KEY=value`` fields to the service manager; True when a datagram was sent."""
    address = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode())
    except OSError as exc:  # systemd gone or a bad variable: the daemon goes on without it
        log.warning("cannot notify systemd at %s: %s", address.lstrip("\0"), exc)
        return False
    return True
