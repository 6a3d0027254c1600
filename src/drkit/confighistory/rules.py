"""Which normalisation and redaction rules apply to a scope, from drkit.yaml.

A collected file follows the source it came from (the first source on its
host whose paths match it) plus the global ``redact_keys`` and
``redact_patterns``; drkit's own configuration follows the global ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from drkit.confighistory.globbing import glob_match
from drkit.confighistory.model import Scope
from drkit.confighistory.normalise import Normaliser
from drkit.confighistory.redact import Redactor
from drkit.settings.confighistory import ConfigHistorySettings, SourceSettings


@dataclass(frozen=True)
class ScopeRules:
    normaliser: Normaliser
    redactor: Redactor

    def merged(self, other: ScopeRules) -> Redactor:
        """One redactor hiding what either side's rules hide (diffs across two scopes)."""
        return Redactor(
            keys=tuple(dict.fromkeys(self.redactor.keys + other.redactor.keys)),
            patterns=tuple(dict.fromkeys(self.redactor.patterns + other.redactor.patterns)),
        )


def source_for(scope: Scope, settings: ConfigHistorySettings) -> SourceSettings | None:
    if scope.is_drkit:
        return None
    for source in settings.sources:
        if source.host == scope.host and any(glob_match(p, scope.path) for p in source.paths):
            return source
    return None


def rules_for(scope: Scope, settings: ConfigHistorySettings) -> ScopeRules:
    source = source_for(scope, settings)
    keys, patterns = list(settings.redact_keys), list(settings.redact_patterns)
    if source is None:
        return ScopeRules(Normaliser(), Redactor(tuple(keys), tuple(patterns)))
    return ScopeRules(
        Normaliser(tuple(source.ignore_lines), tuple(source.ignore_keys)),
        Redactor(tuple(keys + source.redact_keys), tuple(patterns + source.redact_patterns)),
    )
