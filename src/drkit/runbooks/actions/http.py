"""``action: http``: send a request and check the answer (status, body, JSON values).

```yaml
- id: health
  action: http
  with:
    url: http://app-b.internal:8080/health
    expect_status: [200]
    body_regex: '"ok"'
    json: {"$.status": "up"}          # values the JSON answer must hold
    extract: {version: "$.version"}   # outputs read from the JSON answer
```

Outputs: ``status``, ``body`` (the first 4 KiB), ``seconds``, and each
``extract`` name.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable

import httpx
from pydantic import Field, JsonValue, field_validator

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.jsonpath import lookup, parse_path
from drkit.runbooks.actions.registry import register
from drkit.runbooks.errors import ActionFailed

BODY_KEPT = 4096


class HttpArgs(ActionArgs):
    url: str = Field(description="http:// or https:// URL.")
    method: str = Field(default="GET", description="HTTP method.")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers.")
    body: str | None = Field(default=None, description="Request body as text.")
    json_body: JsonValue | None = Field(default=None, description="Request body as JSON.")
    timeout: float = Field(default=10, gt=0, description="Seconds for the whole request.")
    expect_status: list[int] | None = Field(
        default=None, description="Status codes that pass (default: any 2xx)."
    )
    body_regex: str | None = Field(default=None, description="A regex the body must match.")
    json_expect: dict[str, str] = Field(
        default_factory=dict, alias="json", description="JSON path -> value the answer must hold."
    )
    extract: dict[str, str] = Field(
        default_factory=dict, description="Output name -> JSON path to read it from."
    )
    verify_tls: bool = Field(default=True, description="Check the server's certificate.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value

    @field_validator("body_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"body_regex is not a regular expression: {exc}") from None
        return value

    @field_validator("json_expect")
    @classmethod
    def _check_paths(cls, value: dict[str, str]) -> dict[str, str]:
        _valid_paths(value.keys())
        return value

    @field_validator("extract")
    @classmethod
    def _extract_paths(cls, value: dict[str, str]) -> dict[str, str]:
        _valid_paths(value.values())
        return value


def _valid_paths(paths: Iterable[str]) -> None:
    for path in paths:
        try:
            parse_path(path)
        except ActionFailed as exc:
            raise ValueError(exc.message) from None


@register
class HttpAction(Action[HttpArgs]):
    type = "http"

    def run(self, args: HttpArgs, ctx: ActionContext) -> ActionResult:
        started = time.monotonic()
        response = _send(args, _timeout(args.timeout, ctx.timeout_s))
        seconds = time.monotonic() - started
        ctx.log(f"{args.method} {args.url} -> {response.status_code} in {seconds:.3f}s")
        outputs = check_response(args, response.status_code, response.text)
        outputs.update(status=str(response.status_code), seconds=f"{seconds:.3f}")
        return ActionResult(output=response.text[:BODY_KEPT], outputs=outputs)

    def describe(self, args: HttpArgs) -> str:
        expected = ", ".join(map(str, args.expect_status)) if args.expect_status else "2xx"
        return f"{args.method} {args.url}, expect {expected}"


def _timeout(own: float, step: float | None) -> float:
    return min(own, step) if step else own


def _send(args: HttpArgs, timeout: float) -> httpx.Response:
    content = args.body.encode() if args.body is not None else None
    if args.json_body is not None:
        content = json.dumps(args.json_body).encode()
    headers = dict(args.headers)
    if args.json_body is not None:
        headers.setdefault("Content-Type", "application/json")
    try:
        with httpx.Client(timeout=timeout, verify=args.verify_tls) as client:
            return client.request(args.method, args.url, headers=headers, content=content)
    except httpx.HTTPError as exc:
        raise ActionFailed(
            f"{args.method} {args.url} failed: {exc or type(exc).__name__}",
            hint="check that the service is up and the URL is right",
        ) from exc


def check_response(args: HttpArgs, status: int, body: str) -> dict[str, str]:
    """Check status, body and JSON values; return the extracted outputs plus the body."""
    allowed = args.expect_status
    if (allowed and status not in allowed) or (not allowed and not 200 <= status < 300):
        raise ActionFailed(f"{args.url} answered {status}: {body[:200]!r}")
    if args.body_regex and re.search(args.body_regex, body) is None:
        raise ActionFailed(f"the body of {args.url} does not match {args.body_regex!r}")
    outputs = {"body": body[:BODY_KEPT]}
    if args.json_expect or args.extract:
        document = _json(args.url, body)
        for path, expected in args.json_expect.items():
            found = lookup(document, path)
            if found != expected:
                raise ActionFailed(f"{path} of {args.url} is {found!r}, expected {expected!r}")
        for name, path in args.extract.items():
            outputs[name] = lookup(document, path) or ""
    return outputs


def _json(url: str, body: str) -> object:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ActionFailed(f"the answer of {url} is not JSON: {exc}") from exc
