"""Big JSON bodies (1,000 runs or snapshots) written by json.dumps, as the CLI's --json.

FastAPI's own encoding walks every value of a returned dict in Python
(``jsonable_encoder``) before it serializes it: for the listings that is most
of the request's time. These routes answer a ready :class:`JSONBody` instead,
with times in ISO 8601 as ``drkit ... --json`` writes them.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

from drkit.services.launch import json_default


class JSONBody(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=json_default, separators=(",", ":")).encode()
