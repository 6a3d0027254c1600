"""Errors of the catalog."""

from __future__ import annotations

from drkit.errors import DrkitError


class CatalogError(DrkitError):
    code = "catalog"
    exit_code = 40


class CatalogUnavailable(CatalogError):
    code = "catalog-unavailable"
    exit_code = 40


class CatalogNewer(CatalogError):
    """The catalog was migrated by a newer drkit: this one does not know its schema."""

    code = "catalog-newer"
    exit_code = 40


class RunNotFound(CatalogError):
    code = "run-not-found"
    exit_code = 41
