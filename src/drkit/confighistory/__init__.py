"""Versioned configuration: drkit's own and files collected from servers.

Every change is a version (author, time, message, content hash) stored only
when the content changed; diffs redact secrets; any scope restores to any
point in time; the versions are also written into backup repositories so a
lost control plane can be rebuilt from any copy. See docs/config-history.md.

The package is imported by the catalog's migration environment (for its
tables), so this module imports nothing heavy.
"""

from drkit.confighistory.model import ConfigVersion, Scope, ScopeKind, ScopeSelector

__all__ = ["ConfigVersion", "Scope", "ScopeKind", "ScopeSelector"]
