"""The REST API: FastAPI over the service layer, served by `drkit serve`.

Every route names the permission it needs (:mod:`drkit.api.auth`), answers
with the same JSON document as the operation's ``to_json()`` (the CLI's
``--json``), and reports errors as RFC 9457 problem documents carrying
drkit's error code and hint (:mod:`drkit.api.problems`). It never imports
``drkit.cli``. docs/api.md lists the routes.
"""

from __future__ import annotations

from drkit.api.app import create_app

__all__ = ["create_app"]
