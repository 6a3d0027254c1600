"""The dashboard: server-rendered pages (Jinja2) over the same services as the API.

Sign-in with a password gives a server-side session (:mod:`drkit.users.sessions`)
in an HttpOnly, SameSite=Strict cookie (Secure under TLS); every form carries
a CSRF token; failed logins are throttled (:mod:`drkit.web.throttle`); logout
ends the session in the catalog. Every asset is in the package; no script
(the Content-Security-Policy forbids any).

One module per group of pages, each adding its routes in ``install(app)``:
:mod:`~drkit.web.app` (sign-in, overview, runs), :mod:`~drkit.web.snapshot_pages`,
:mod:`~drkit.web.drill_pages` (charts by :mod:`~drkit.web.chart`),
:mod:`~drkit.web.runbook_pages`, :mod:`~drkit.web.config_pages` (diff, restore
after its preview), :mod:`~drkit.web.user_pages` (users, tokens, audit log).
"""

from __future__ import annotations

from drkit.web.app import install

__all__ = ["install"]
