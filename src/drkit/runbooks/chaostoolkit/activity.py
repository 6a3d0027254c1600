"""``action: chaostoolkit.activity``: one Chaos Toolkit probe or action, run as chaos runs it.

The step's ``with.activity`` is the activity exactly as written in the
experiment (kept for the journal). Providers: ``process`` (output ``{status,
stdout, stderr}``; a non-zero exit is not a failure, as in Chaos Toolkit)
and ``http`` (output ``{status, headers, body}``, the body parsed when it is
JSON; only a connection failure or a timeout fails) and ``python`` (the
function's return value, called by Chaos Toolkit's library: see
:mod:`.python_provider`; an exception fails). ``${name}`` in the
provider is replaced from the experiment's configuration. With
``check_tolerance`` (hypothesis probes) the output is judged against the
probe's tolerance: output ``tolerance_met`` is ``true`` or ``false``.
Outputs also carry ``ctk_output`` (the output as JSON, for the journal).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import time
from typing import Any

import httpx
from pydantic import BaseModel, Field, JsonValue

from drkit.runbooks.actions.base import Action, ActionArgs, ActionContext, ActionResult
from drkit.runbooks.actions.process import run_process
from drkit.runbooks.actions.registry import register
from drkit.runbooks.chaostoolkit.experiment import Activity, Provider, ProviderType
from drkit.runbooks.chaostoolkit.python_provider import run_python
from drkit.runbooks.chaostoolkit.tolerance import within_tolerance
from drkit.runbooks.errors import ActionFailed

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_-]+)\}")


class ActivityArgs(ActionArgs):
    activity: dict[str, JsonValue] = Field(description="The activity as in the experiment.")
    check_tolerance: bool = Field(default=False, description="Judge the output (hypothesis).")
    configuration: dict[str, str] = Field(default_factory=dict, description="${name} values.")


@register
class ChaosActivity(Action):
    type = "chaostoolkit.activity"
    Args = ActivityArgs

    def run(self, args: BaseModel, ctx: ActionContext) -> ActionResult:
        assert isinstance(args, ActivityArgs)
        written = substitute(args.activity, args.configuration)
        activity = Activity.model_validate(written)
        _pause(activity.pauses.before, ctx)
        if activity.provider.type is ProviderType.PYTHON:
            output = run_python(written, args.configuration)
        else:
            output = run_provider(activity.provider, ctx)
        outputs = {"ctk_output": json.dumps(output, default=str)}
        if isinstance(output, dict) and "status" in output:
            outputs["status"] = str(output["status"])
        if args.check_tolerance and activity.tolerance is not None:
            met = within_tolerance(activity.tolerance, output)
            outputs["tolerance_met"] = "true" if met else "false"
            ctx.log(f"tolerance {'met' if met else 'NOT met'}: {activity.tolerance!r}")
        _pause(activity.pauses.after, ctx)
        return ActionResult(output=json.dumps(output, default=str)[:4096], outputs=outputs)

    def describe(self, args: BaseModel) -> str:
        assert isinstance(args, ActivityArgs)
        activity = Activity.model_validate(args.activity)
        provider = activity.provider
        target = {
            ProviderType.HTTP: provider.url,
            ProviderType.PROCESS: provider.path,
            ProviderType.PYTHON: f"{provider.module}.{provider.func}",
        }[provider.type]
        return f"{activity.type.value} {activity.name!r}: {provider.type.value} {target}"


def substitute(value: Any, configuration: dict[str, str]) -> Any:
    """``${name}`` in strings replaced by configuration values (unknown names stay)."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: configuration.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(item, configuration) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, configuration) for key, item in value.items()}
    return value


def run_provider(provider: Provider, ctx: ActionContext) -> Any:
    if provider.type is ProviderType.PROCESS:
        return _process(provider, ctx)
    return _http(provider, ctx)


def _timeout(provider: Provider, ctx: ActionContext) -> float | None:
    raw = provider.timeout
    own = max(raw) if isinstance(raw, list) and raw else raw if not isinstance(raw, list) else None
    limits = [t for t in (own, ctx.timeout_s) if t]
    return min(limits) if limits else None


def _process(provider: Provider, ctx: ActionContext) -> dict[str, Any]:
    raw = os.path.expanduser(provider.path or "")
    path = shutil.which(raw)
    if not path:
        raise ActionFailed(f"process path {provider.path!r} cannot be found")
    arguments = provider.arguments
    shell_line = f"{path} {arguments}" if isinstance(arguments, str) else None
    command: str | list[str] = shell_line or [path, *_argv(arguments)]
    done = run_process(command, ctx, timeout_s=_timeout(provider, ctx))
    return {"status": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


def _argv(arguments: JsonValue) -> list[str]:
    """Chaos Toolkit's rules: a list as is, a mapping as key value pairs; empty values dropped."""
    items: list[JsonValue] = []
    if isinstance(arguments, dict):
        items = list(itertools.chain.from_iterable(arguments.items()))
    elif isinstance(arguments, list):
        items = arguments
    elif arguments is not None:
        items = [arguments]
    return [str(a) for a in items if a not in (None, "")]


def _http(provider: Provider, ctx: ActionContext) -> dict[str, Any]:
    url = provider.url or ""
    method = provider.method.upper()
    arguments = provider.arguments
    request: dict[str, Any] = {"headers": provider.headers}
    if method == "GET" and isinstance(arguments, dict):
        request["params"] = {k: str(v) for k, v in arguments.items()}
    elif isinstance(arguments, dict):
        request["data"] = {k: str(v) for k, v in arguments.items()}
    elif isinstance(arguments, str):
        request["content"] = arguments.encode()
    try:
        with httpx.Client(timeout=_timeout(provider, ctx), verify=provider.verify_tls) as client:
            response = client.request(method, url, **request)
    except httpx.TimeoutException as exc:
        raise ActionFailed("activity took too long to complete") from exc
    except httpx.HTTPError as exc:
        raise ActionFailed(f"failed to connect to {url}: {exc}") from exc
    body: Any = response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
    return {"status": response.status_code, "headers": dict(response.headers), "body": body}


def _pause(seconds: float | None, ctx: ActionContext) -> None:
    if not seconds:
        return
    end = time.monotonic() + seconds
    while time.monotonic() < end and not ctx.cancelled():
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))
