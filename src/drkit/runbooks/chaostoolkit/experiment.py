"""The Chaos Toolkit experiment format (the part drkit runs), read from JSON or YAML.

Supported: ``title``, ``description``, ``configuration`` (plain values and
``{type: env, key: NAME}``), ``steady-state-hypothesis`` with probes and
tolerances, ``method`` (may be empty: the hypothesis alone is checked, as
``chaos run`` does), ``rollbacks``, activity ``ref``\\ s, ``pauses``, and the
``process``, ``http`` and ``python`` providers. A ``python`` provider runs
through Chaos Toolkit's own library (``pip install 'drkit[chaos]'``, see
:mod:`.python_provider`); without it the experiment is refused, naming the
extra. Keys drkit does not use (tags, contributions, extensions, ...) are
accepted and ignored, so experiments written for the ``chaos`` CLI load
unchanged; ``controls`` (experiment or activity level) are not run, and
loading says so (:attr:`LoadedExperiment.warnings`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from drkit.runbooks.chaostoolkit.tolerance import check_tolerance
from drkit.runbooks.errors import RunbookInvalid
from drkit.settings._diagnostics import dotted


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ProviderType(StrEnum):
    PROCESS = "process"
    HTTP = "http"
    PYTHON = "python"


class Provider(_Lenient):
    type: ProviderType
    path: str | None = None
    arguments: JsonValue = None
    timeout: float | list[float] | None = None
    url: str | None = None
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    verify_tls: bool = True
    module: str | None = None
    func: str | None = None


class Pauses(_Lenient):
    before: float | None = None
    after: float | None = None


class ActivityType(StrEnum):
    PROBE = "probe"
    ACTION = "action"


class Activity(_Lenient):
    type: ActivityType
    name: str = Field(min_length=1)
    provider: Provider
    tolerance: JsonValue = None
    pauses: Pauses = Field(default_factory=Pauses)
    background: bool = False


class Hypothesis(_Lenient):
    title: str
    probes: list[Activity] = Field(default_factory=list)


class Experiment(_Lenient):
    title: str = Field(min_length=1)
    description: str = ""
    configuration: dict[str, JsonValue] = Field(default_factory=dict)
    steady_state_hypothesis: Hypothesis | None = Field(
        default=None, alias="steady-state-hypothesis"
    )
    method: list[Activity]
    rollbacks: list[Activity] = Field(default_factory=list)

    def resolved_configuration(self) -> dict[str, str]:
        """Configuration values as text; ``{type: env, key: K}`` read from the environment."""
        values: dict[str, str] = {}
        for key, value in self.configuration.items():
            if isinstance(value, dict) and value.get("type") == "env":
                env_key = str(value.get("key", ""))
                default = value.get("default")
                found = os.environ.get(env_key, None if default is None else str(default))
                if found is None:
                    raise RunbookInvalid(
                        f"configuration {key!r} reads ${env_key}, which is not set",
                        hint=f"export {env_key}=... before running the experiment",
                    )
                values[key] = found
            else:
                values[key] = value if isinstance(value, str) else json.dumps(value)
        return values


@dataclass(frozen=True)
class LoadedExperiment:
    """The checked experiment, and its document as written (activities go into the journal)."""

    experiment: Experiment
    document: dict[str, Any]
    path: Path
    warnings: tuple[str, ...] = ()
    """What the experiment asks for that drkit does not do (controls)."""

    def raw_activities(self, phase: str) -> list[dict[str, Any]]:
        if phase == "hypothesis":
            hypothesis = self.document.get("steady-state-hypothesis") or {}
            return list(hypothesis.get("probes") or [])
        return list(self.document.get(phase) or [])


def load_experiment(path: Path) -> LoadedExperiment:
    """Read an experiment file (JSON or YAML); activity refs are resolved by name."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RunbookInvalid(f"{path}: cannot read the experiment: {exc.strerror}") from exc
    try:
        document = YAML(typ="safe").load(text)  # JSON is YAML too
    except YAMLError as exc:
        raise RunbookInvalid(f"{path}: not JSON or YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(document, dict):
        raise RunbookInvalid(f"{path}: an experiment is a mapping with title and method")
    resolved = _resolve_refs(document)
    experiment = parse_experiment(resolved, path)
    return LoadedExperiment(experiment, resolved, path, ignored_controls(resolved, path))


def ignored_controls(document: dict[str, Any], path: Path) -> tuple[str, ...]:
    """A warning for each place the experiment declares ``controls``, which drkit does not run."""
    found = [
        f"activity {a.get('name')!r}"
        for a in _activities(document)
        if isinstance(a, dict) and a.get("controls")
    ]
    if document.get("controls"):
        found.insert(0, "the experiment")
    return tuple(
        f"{path.name}: controls of {where} are ignored (drkit runs no Chaos Toolkit controls)"
        for where in found
    )


def parse_experiment(document: dict[str, Any], path: Path) -> Experiment:
    _check_python(document, path)
    try:
        experiment = Experiment.model_validate(document)
    except ValidationError as exc:
        problems = [f"{path}: {dotted(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise RunbookInvalid(
            "\n".join(problems),
            hint="see https://chaostoolkit.org/reference/api/experiment/ for the format",
        ) from exc
    for probe in (
        experiment.steady_state_hypothesis.probes if experiment.steady_state_hypothesis else []
    ):
        try:
            check_tolerance(probe.tolerance)
        except RunbookInvalid as exc:
            raise RunbookInvalid(
                f"{path}: probe {probe.name!r}: {exc.message}", hint=exc.hint
            ) from exc
    return experiment


def _activities(document: dict[str, Any]) -> list[Any]:
    hypothesis = document.get("steady-state-hypothesis") or {}
    return [
        *(hypothesis.get("probes") or []),
        *(document.get("method") or []),
        *(document.get("rollbacks") or []),
    ]


def _resolve_refs(document: dict[str, Any]) -> dict[str, Any]:
    """``{"ref": "name"}`` entries replaced by the activity of that name (as chaos does)."""
    named = {a["name"]: a for a in _activities(document) if isinstance(a, dict) and "name" in a}

    def resolve(items: list[Any]) -> list[Any]:
        out = []
        for item in items:
            if isinstance(item, dict) and "ref" in item:
                if item["ref"] not in named:
                    raise RunbookInvalid(f"activity ref {item['ref']!r} names no activity")
                item = named[item["ref"]]
            out.append(item)
        return out

    resolved = dict(document)
    for key in ("method", "rollbacks"):
        if key in document:  # a missing method stays missing: chaos requires the key
            resolved[key] = resolve(document.get(key) or [])
    hypothesis = document.get("steady-state-hypothesis")
    if isinstance(hypothesis, dict):
        resolved["steady-state-hypothesis"] = {
            **hypothesis,
            "probes": resolve(hypothesis.get("probes") or []),
        }
    return resolved


def _check_python(document: dict[str, Any], path: Path) -> None:
    """A python provider needs Chaos Toolkit's library, and a module and a function."""
    from drkit.runbooks.chaostoolkit.python_provider import available

    for activity in _activities(document):
        provider = activity.get("provider", {}) if isinstance(activity, dict) else {}
        if not isinstance(provider, dict) or provider.get("type") != "python":
            continue
        name = activity.get("name")
        if not available():
            raise RunbookInvalid(
                f"{path}: activity {name!r} uses a python provider, which runs through "
                "Chaos Toolkit's library (chaostoolkit-lib), not installed",
                hint="pip install 'drkit[chaos]' (and the experiment's extension packages)",
            )
        if not provider.get("module") or not provider.get("func"):
            raise RunbookInvalid(
                f"{path}: activity {name!r}: a python provider needs 'module' and 'func'",
                hint="see https://chaostoolkit.org/reference/api/experiment/#python-provider",
            )
