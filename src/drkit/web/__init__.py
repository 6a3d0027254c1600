"""The dashboard: server-rendered pages (Jinja2) over the same services as the API.

Sign-in with a password gives a server-side session (:mod:`drkit.users.sessions`)
in an HttpOnly, SameSite=Strict cookie (Secure under TLS); every form carries
a CSRF token; failed logins are throttled (:mod:`drkit.web.throttle`); logout
ends the session in the catalog. Every asset is in the package; no script.
"""

from __future__ import annotations

from drkit.web.app import install

__all__ = ["install"]
